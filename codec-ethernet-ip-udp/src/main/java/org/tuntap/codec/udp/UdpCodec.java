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
import org.tuntap.codec.ipv6.Ipv6Codec;
import org.tuntap.codec.ipv6.Ipv6Datagram;
import org.tuntap.codec.ipv6.Ipv6Header;
import org.tuntap.codec.ipv6.Ipv6Packet;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;

/**
 * The UDP layer: turns the tunnel into ordinary Netty UDP for the handlers after it.
 *
 * <p>Both IP families, so a handler after it does not care which one a datagram came over.
 * Inbound it takes an {@link Ipv4Packet} of protocol 17 or an {@link Ipv6Packet} whose upper
 * layer is UDP (not a fragment) and emits a {@link DatagramPacket} whose content is a retained
 * slice of the payload, sender the source address and port ({@code Inet4Address} or
 * {@code Inet6Address}), recipient the destination. Bad lengths and (when verified) bad
 * checksums are dropped and counted; over IPv6 the checksum is mandatory (RFC 8200 section
 * 8.1), so a zero one is {@link DropReason#BAD_CHECKSUM}. Packets of other protocols pass on.
 *
 * <p>Outbound it takes a {@link DatagramPacket} and emits an {@link Ipv4Datagram} for
 * {@link Ipv4Codec}, or an {@link Ipv6Datagram} for {@link Ipv6Codec} when the recipient is an
 * IPv6 address: the UDP header in front of the payload (no copy), the checksum over the
 * family's pseudo-header. The source is the packet's {@code sender()}, or the
 * {@linkplain #setDefaultLocalAddress default local address} of the recipient's family when
 * that is null (or for its IP when the sender's address is the wildcard). A sender of the other
 * family, or no sender at all, fails the write with an {@link EncoderException}.
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
    private InetSocketAddress defaultLocalAddress6;

    // The datagram being written, between route() and its header being built (event loop only).
    private boolean ipv6;
    private int source;
    private int destination;
    private long sourceHigh;
    private long sourceLow;
    private long destinationHigh;
    private long destinationLow;
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

    /**
     * The source of outbound packets to recipients of this address's family whose
     * {@code sender()} is null: call it once for IPv4 and once for IPv6 to have both. Must be a
     * resolved address.
     */
    public UdpCodec setDefaultLocalAddress(InetSocketAddress defaultLocalAddress) {
        if (defaultLocalAddress != null && defaultLocalAddress.getAddress() instanceof Inet6Address) {
            this.defaultLocalAddress6 = defaultLocalAddress;
            return this;
        }
        if (defaultLocalAddress != null && !(defaultLocalAddress.getAddress() instanceof Inet4Address)) {
            throw new IllegalArgumentException("the default local address must be a resolved IP address: " + defaultLocalAddress);
        }
        this.defaultLocalAddress = defaultLocalAddress;
        return this;
    }

    /** The IPv4 source of outbound packets whose {@code sender()} is null, or null when not set. */
    public InetSocketAddress defaultLocalAddress() {
        return defaultLocalAddress;
    }

    /** The IPv6 source of outbound packets whose {@code sender()} is null, or null when not set. */
    public InetSocketAddress defaultLocalAddress6() {
        return defaultLocalAddress6;
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
        if (msg instanceof Ipv6Packet packet6 && packet6.upperLayerProtocol() == Ipv4Header.PROTOCOL_UDP && !packet6.isFragment()
                || msg instanceof Ipv4Packet packet && packet.protocol() == Ipv4Header.PROTOCOL_UDP && !packet.isFragment()) {
            decodeAndFire(ctx, msg);
        } else {
            ctx.fireChannelRead(msg);
        }
    }

    /** The datagram in an {@link Ipv4Packet} or {@link Ipv6Packet} of UDP, or null when dropped. */
    @Override
    protected DatagramPacket decode(ChannelHandlerContext ctx, Object msg) {
        return msg instanceof Ipv6Packet packet6 ? decode(ctx, packet6) : decode(ctx, (Ipv4Packet) msg);
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

    private DatagramPacket decode(ChannelHandlerContext ctx, Ipv6Packet packet) {
        ByteBuf buf = packet.content();
        int at = packet.upperLayerIndex();
        DropReason problem = UdpHeader.checkIpv6(buf, at, packet.upperLayerLength(), buf.readerIndex(), checksums.verify());
        if (problem != null) {
            drops.drop(ctx, problem, packet);
            return null;
        }
        int length = UdpHeader.length(buf, at);
        int ip = buf.readerIndex();
        return new DatagramPacket(
                buf.retainedSlice(at + UdpHeader.LENGTH, length - UdpHeader.LENGTH),
                inboundRecipient.socketAddress6(Ipv6Header.destinationHigh(buf, ip), Ipv6Header.destinationLow(buf, ip),
                        UdpHeader.destinationPort(buf, at)),
                inboundSender.socketAddress6(Ipv6Header.sourceHigh(buf, ip), Ipv6Header.sourceLow(buf, ip),
                        UdpHeader.sourcePort(buf, at)));
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
        FusedStack fused = ipv6 ? null : fusedStack(ctx); // the fused path is IPv4's
        if (fused != null && fused.isTop(this)) {
            FusedFields fields = fused.fields();
            fields.source(source);
            fields.destination(destination);
            fields.protocol(Ipv4Header.PROTOCOL_UDP);
            fields.transportLength(UdpHeader.LENGTH + payloadLength);
            fields.ports(sourcePort, destinationPort);
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
        InetAddress destinationAddress = recipient == null ? null : recipient.getAddress();
        if (!(destinationAddress instanceof Inet4Address || destinationAddress instanceof Inet6Address)) {
            throw new EncoderException("UDP over the tunnel needs a resolved IP recipient, not " + recipient);
        }
        ipv6 = destinationAddress instanceof Inet6Address;
        InetSocketAddress familyDefault = ipv6 ? defaultLocalAddress6 : defaultLocalAddress;
        InetSocketAddress sender = packet.sender() != null ? packet.sender() : familyDefault;
        if (sender == null) {
            throw new EncoderException("the packet has no sender and the UdpCodec no default local "
                    + (ipv6 ? "IPv6" : "IPv4") + " address");
        }
        InetAddress senderAddress = sender.getAddress();
        if (senderAddress != null && senderAddress.isAnyLocalAddress() && familyDefault != null) {
            senderAddress = familyDefault.getAddress();
        }
        if (senderAddress == null || senderAddress.isAnyLocalAddress()
                || (ipv6 ? !(senderAddress instanceof Inet6Address) : !(senderAddress instanceof Inet4Address))) {
            throw new EncoderException("UDP over the tunnel to " + recipient + " needs a resolved "
                    + (ipv6 ? "IPv6" : "IPv4") + " sender, not " + sender);
        }
        ByteBuf content = packet.content();
        int max = ipv6 ? Ipv6Header.MAX_PAYLOAD_LENGTH - UdpHeader.LENGTH : UdpHeader.MAX_IPV4_PAYLOAD;
        if (content.readableBytes() > max) {
            throw new EncoderException("UDP payload of " + content.readableBytes() + " bytes exceeds "
                    + max + ", the most one " + (ipv6 ? "IPv6" : "IPv4") + " packet carries");
        }
        if (ipv6) {
            sourceHigh = outboundSource.high6((Inet6Address) senderAddress);
            sourceLow = outboundSource.low6((Inet6Address) senderAddress);
            destinationHigh = outboundDestination.high6((Inet6Address) destinationAddress);
            destinationLow = outboundDestination.low6((Inet6Address) destinationAddress);
        } else {
            source = outboundSource.toInt((Inet4Address) senderAddress);
            destination = outboundDestination.toInt((Inet4Address) destinationAddress);
        }
        sourcePort = sender.getPort();
        destinationPort = recipient.getPort();
        payload = content;
        payloadIndex = content.readerIndex();
        payloadLength = content.readableBytes();
    }

    /** The layered path: the datagram (already routed) as an {@link Ipv4Datagram} or {@link Ipv6Datagram}. */
    @Override
    protected Object encode(ChannelHandlerContext ctx, Object msg) {
        ByteBuf content = ((DatagramPacket) msg).content();
        ByteBuf segment = Headroom.prepend(ctx.alloc(), content, UdpHeader.LENGTH);
        ByteBuf header = Headroom.headerBuffer(segment);
        if (ipv6) {
            UdpHeader.setIpv6(header, segment.readerIndex(), sourceHigh, sourceLow, destinationHigh, destinationLow,
                    sourcePort, destinationPort, content, content.readerIndex(), content.readableBytes(), checksums.compute());
            return new Ipv6Datagram(sourceHigh, sourceLow, destinationHigh, destinationLow, Ipv4Header.PROTOCOL_UDP, segment);
        }
        UdpHeader.set(header, segment.readerIndex(), source, destination, sourcePort, destinationPort,
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
        int available = fields.end() - index;
        if (fields.protocol() != Ipv4Header.PROTOCOL_UDP || available < UdpHeader.LENGTH) {
            return -1;
        }
        long header = UdpHeader.word(buf, index); // every field from one read
        if (UdpHeader.check(header, buf, index, available, fields.source(), fields.destination(), checksums.verify()) != null) {
            return -1;
        }
        fields.end(index + UdpHeader.length(header));
        fields.ports(UdpHeader.sourcePort(header), UdpHeader.destinationPort(header));
        return index + UdpHeader.LENGTH;
    }

    /** Fires a {@link DatagramPacket} whose content is the read buffer itself, its indices set to the payload. */
    @Override
    protected void fusedDeliver(ChannelHandlerContext ctx, ByteBuf buf, int index, FusedFields fields) {
        DatagramPacket datagram = new DatagramPacket(
                buf.setIndex(index, fields.end()),
                inboundRecipient.socketAddress(fields.destination(), fields.destinationPort()),
                inboundSender.socketAddress(fields.source(), fields.sourcePort()));
        ctx.fireChannelRead(datagram);
    }

    /** Builds the UDP header of the datagram being written, checksum per the policy. */
    @Override
    protected void fusedEncode(ByteBuf buf, int index, FusedFields fields) {
        UdpHeader.set(buf, index, source, destination, sourcePort, destinationPort,
                payload, payloadIndex, payloadLength, checksums.compute());
    }
}
