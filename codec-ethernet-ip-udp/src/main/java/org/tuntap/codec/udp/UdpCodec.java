package org.tuntap.codec.udp;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.channel.socket.DatagramPacket;
import io.netty.handler.codec.EncoderException;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.internal.logging.InternalLoggerFactory;
import org.tuntap.codec.DropCounters;
import org.tuntap.codec.DropPolicy;
import org.tuntap.codec.DropReason;
import org.tuntap.codec.FusedFields;
import org.tuntap.codec.FusedStack;
import org.tuntap.codec.LayerHandler;
import org.tuntap.codec.buffer.Headroom;
import org.tuntap.codec.checksum.ChecksumPolicy;
import org.tuntap.codec.ipv4.Ipv4Codec;
import org.tuntap.codec.ipv4.Ipv4Datagram;
import org.tuntap.codec.ipv4.Ipv4Header;
import org.tuntap.codec.ipv4.Ipv4Packet;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;

/**
 * The UDP layer: turns the tunnel into ordinary Netty UDP for the handlers after it.
 *
 * <p>Inbound it takes an {@link Ipv4Packet} of protocol 17 and emits a {@link DatagramPacket}
 * whose content is a retained slice of the payload, sender the source address and port,
 * recipient the destination. Bad lengths and (when verified) bad checksums are dropped and
 * counted; packets of other protocols pass on.
 *
 * <p>Outbound it takes a {@link DatagramPacket} and emits an {@link Ipv4Datagram} for
 * {@link Ipv4Codec}: the UDP header in front of the payload (no copy), the checksum over the
 * pseudo-header. The source is the packet's {@code sender()}, or the
 * {@linkplain #setDefaultLocalAddress default local address} when that is null (or for its IP
 * when the sender's address is the wildcard). Only IPv4 is supported; anything else fails the
 * write with an {@link EncoderException}.
 *
 * <p>On top of the IPv4 layer (and PI, Ethernet and ARP below it) it is the top of their fused
 * path (see {@link LayerHandler}): a datagram read is then the buffer the channel read, its
 * indices narrowed to the payload (no slice), and a datagram written becomes one packet built
 * in one step, in place when it is the buffer just read.
 */
public final class UdpCodec extends LayerHandler {

    private final DropPolicy drops = new DropPolicy(InternalLoggerFactory.getInstance(UdpCodec.class));
    private final AddressCache inboundSender = new AddressCache();
    private final AddressCache inboundRecipient = new AddressCache();
    private final AddressCache outboundSource = new AddressCache();
    private final AddressCache outboundDestination = new AddressCache();
    private ChecksumPolicy checksums = ChecksumPolicy.BOTH;
    private InetSocketAddress defaultLocalAddress;

    // The datagram being written, between route() and its header being built (event loop only).
    private int source;
    private int destination;
    private int sourcePort;
    private int destinationPort;
    private ByteBuf payload;
    private int payloadIndex;
    private int payloadLength;

    /** A codec with no default local address (every written packet must name its sender), checksums both ways. */
    public UdpCodec() {
    }

    /** A codec sending from {@code defaultLocalAddress} when a packet names no sender. */
    public UdpCodec(InetSocketAddress defaultLocalAddress) {
        this();
        setDefaultLocalAddress(defaultLocalAddress);
    }

    /** Whether to verify inbound checksums and compute outbound ones. Default both. */
    public UdpCodec setChecksumPolicy(ChecksumPolicy checksums) {
        if (checksums == null) {
            throw new NullPointerException("checksums");
        }
        this.checksums = checksums;
        return this;
    }

    /** The source of outbound packets whose {@code sender()} is null. Must be an IPv4 address. */
    public UdpCodec setDefaultLocalAddress(InetSocketAddress defaultLocalAddress) {
        if (defaultLocalAddress != null && !(defaultLocalAddress.getAddress() instanceof Inet4Address)) {
            throw new IllegalArgumentException("the default local address must be a resolved IPv4 address: " + defaultLocalAddress);
        }
        this.defaultLocalAddress = defaultLocalAddress;
        return this;
    }

    /** The source of outbound packets whose {@code sender()} is null, or null when not set. */
    public InetSocketAddress defaultLocalAddress() {
        return defaultLocalAddress;
    }

    /** Raise a {@code DecoderException} for every inbound drop (after counting it). Default off. */
    public UdpCodec setStrict(boolean strict) {
        drops.setStrict(strict);
        return this;
    }

    /** The packets this layer dropped, per reason (readable from any thread). */
    public DropCounters dropCounters() {
        return drops.counters();
    }

    /**
     * Decodes {@link Ipv4Packet}s of protocol 17 into {@link DatagramPacket}s, or drops them;
     * passes anything else on.
     */
    @Override
    protected void read(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof Ipv4Packet packet && packet.protocol() == Ipv4Header.PROTOCOL_UDP)) {
            ctx.fireChannelRead(msg);
            return;
        }
        DatagramPacket decoded;
        try {
            decoded = decode(ctx, packet);
        } finally {
            packet.release();
        }
        if (decoded != null) {
            ctx.fireChannelRead(decoded);
        }
    }

    private DatagramPacket decode(ChannelHandlerContext ctx, Ipv4Packet packet) {
        ByteBuf buf = packet.content();
        int at = packet.payloadIndex();
        int source = packet.sourceInt();
        int destination = packet.destinationInt();
        DropReason problem = UdpHeader.check(buf, at, packet.payloadLength(), source, destination, checksums.verify());
        if (problem != null) {
            drops.drop(ctx, problem, packet);
            return null;
        }
        int length = UdpHeader.length(buf, at);
        return new DatagramPacket(
                buf.retainedSlice(at + UdpHeader.LENGTH, length - UdpHeader.LENGTH),
                inboundRecipient.socketAddress(destination, UdpHeader.destinationPort(buf, at)),
                inboundSender.socketAddress(source, UdpHeader.sourcePort(buf, at)));
    }

    /**
     * Sends a {@link DatagramPacket} through the fused stack when it can, else as an
     * {@link Ipv4Datagram}; one that cannot be sent fails its promise. Passes anything else on.
     */
    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
        if (!(msg instanceof DatagramPacket packet)) {
            ctx.write(msg, promise);
            return;
        }
        try {
            route(packet);
        } catch (Throwable t) {
            ReferenceCountUtil.safeRelease(packet);
            promise.tryFailure(t);
            return;
        }
        FusedStack fused = fusedStack(ctx);
        if (fused != null && fused.isTop(this)) {
            FusedFields fields = fused.fields();
            fields.source(source);
            fields.destination(destination);
            fields.protocol(Ipv4Header.PROTOCOL_UDP);
            fields.transportLength(UdpHeader.LENGTH + payloadLength);
            if (fused.write(payload, promise)) {
                payload = null;
                return; // the stack took the packet's content
            }
        }
        payload = null;
        encodeAndWrite(ctx, packet, promise);
    }

    /** Works out and checks the addresses and payload of an outbound datagram; throws if it cannot be sent. */
    private void route(DatagramPacket packet) {
        InetSocketAddress recipient = packet.recipient();
        if (recipient == null || !(recipient.getAddress() instanceof Inet4Address destinationAddress)) {
            throw new EncoderException("UDP over the tunnel needs a resolved IPv4 recipient, not " + recipient);
        }
        InetSocketAddress sender = packet.sender() != null ? packet.sender() : defaultLocalAddress;
        if (sender == null) {
            throw new EncoderException("the packet has no sender and the UdpCodec no default local address");
        }
        InetAddress senderAddress = sender.getAddress();
        if (senderAddress != null && senderAddress.isAnyLocalAddress() && defaultLocalAddress != null) {
            senderAddress = defaultLocalAddress.getAddress();
        }
        if (!(senderAddress instanceof Inet4Address sourceAddress) || senderAddress.isAnyLocalAddress()) {
            throw new EncoderException("UDP over the tunnel needs a resolved IPv4 sender, not " + sender);
        }
        ByteBuf content = packet.content();
        if (content.readableBytes() > UdpHeader.MAX_IPV4_PAYLOAD) {
            throw new EncoderException("UDP payload of " + content.readableBytes() + " bytes exceeds "
                    + UdpHeader.MAX_IPV4_PAYLOAD + ", the most one IPv4 packet carries");
        }
        source = outboundSource.toInt(sourceAddress);
        destination = outboundDestination.toInt(destinationAddress);
        sourcePort = sender.getPort();
        destinationPort = recipient.getPort();
        payload = content;
        payloadIndex = content.readerIndex();
        payloadLength = content.readableBytes();
    }

    /** The layered path: the datagram (already routed) as an {@link Ipv4Datagram}. */
    @Override
    protected Ipv4Datagram encode(ChannelHandlerContext ctx, Object msg) {
        ByteBuf content = ((DatagramPacket) msg).content();
        ByteBuf segment = Headroom.prepend(ctx.alloc(), content, UdpHeader.LENGTH);
        UdpHeader.set(Headroom.headerBuffer(segment), segment.readerIndex(), source, destination, sourcePort, destinationPort,
                content, checksums.compute());
        return new Ipv4Datagram(source, destination, Ipv4Header.PROTOCOL_UDP, segment);
    }

    // ---- fused path: the top ----

    /** What follows an IPv4 header. */
    @Override
    protected Bytes fusedTakes() {
        return Bytes.IPV4_PAYLOAD;
    }

    /** The UDP header's 8 bytes. */
    @Override
    protected int fusedHeaderLength() {
        return UdpHeader.LENGTH;
    }

    /**
     * Accepts protocol 17 with a valid length and (when verified) checksum, narrowing
     * {@code fields.end()} to the UDP length.
     */
    @Override
    protected int fusedDecode(ByteBuf buf, int index, FusedFields fields) {
        if (fields.protocol() != Ipv4Header.PROTOCOL_UDP
                || UdpHeader.check(buf, index, fields.end() - index, fields.source(), fields.destination(), checksums.verify()) != null) {
            return -1;
        }
        fields.end(index + UdpHeader.length(buf, index));
        return index + UdpHeader.LENGTH;
    }

    /** Fires a {@link DatagramPacket} whose content is the read buffer itself, its indices set to the payload. */
    @Override
    protected void fusedDeliver(ChannelHandlerContext ctx, ByteBuf buf, int index, FusedFields fields) {
        int header = index - UdpHeader.LENGTH;
        DatagramPacket datagram = new DatagramPacket(
                buf.setIndex(index, fields.end()),
                inboundRecipient.socketAddress(fields.destination(), UdpHeader.destinationPort(buf, header)),
                inboundSender.socketAddress(fields.source(), UdpHeader.sourcePort(buf, header)));
        ctx.fireChannelRead(datagram);
    }

    /** Builds the UDP header of the datagram being written, checksum per the policy. */
    @Override
    protected void fusedEncode(ByteBuf buf, int index, FusedFields fields) {
        UdpHeader.set(buf, index, source, destination, sourcePort, destinationPort,
                payload, payloadIndex, payloadLength, checksums.compute());
    }
}
