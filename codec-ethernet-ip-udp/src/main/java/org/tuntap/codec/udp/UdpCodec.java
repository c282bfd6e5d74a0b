package org.tuntap.codec.udp;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.socket.DatagramPacket;
import io.netty.handler.codec.EncoderException;
import io.netty.handler.codec.MessageToMessageCodec;
import io.netty.util.internal.logging.InternalLoggerFactory;
import org.tuntap.codec.DropCounters;
import org.tuntap.codec.DropPolicy;
import org.tuntap.codec.DropReason;
import org.tuntap.codec.buffer.Headroom;
import org.tuntap.codec.checksum.ChecksumPolicy;
import org.tuntap.codec.ipv4.Ipv4Codec;
import org.tuntap.codec.ipv4.Ipv4Datagram;
import org.tuntap.codec.ipv4.Ipv4Header;
import org.tuntap.codec.ipv4.Ipv4Packet;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.List;

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
 */
public final class UdpCodec extends MessageToMessageCodec<Ipv4Packet, DatagramPacket> {

    private final DropPolicy drops = new DropPolicy(InternalLoggerFactory.getInstance(UdpCodec.class));
    private final AddressCache inboundSender = new AddressCache();
    private final AddressCache inboundRecipient = new AddressCache();
    private final AddressCache outboundSource = new AddressCache();
    private final AddressCache outboundDestination = new AddressCache();
    private ChecksumPolicy checksums = ChecksumPolicy.BOTH;
    private InetSocketAddress defaultLocalAddress;

    public UdpCodec() {
        super(Ipv4Packet.class, DatagramPacket.class);
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

    public InetSocketAddress defaultLocalAddress() {
        return defaultLocalAddress;
    }

    public UdpCodec setStrict(boolean strict) {
        drops.setStrict(strict);
        return this;
    }

    public DropCounters dropCounters() {
        return drops.counters();
    }

    @Override
    public boolean acceptInboundMessage(Object msg) {
        return msg instanceof Ipv4Packet packet && packet.protocol() == Ipv4Header.PROTOCOL_UDP;
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, Ipv4Packet packet, List<Object> out) {
        ByteBuf buf = packet.content();
        int at = packet.payloadIndex();
        int source = packet.sourceInt();
        int destination = packet.destinationInt();
        DropReason problem = UdpHeader.check(buf, at, packet.payloadLength(), source, destination, checksums.verify());
        if (problem != null) {
            drops.drop(ctx, problem, packet);
            return;
        }
        int length = UdpHeader.length(buf, at);
        out.add(new DatagramPacket(
                buf.retainedSlice(at + UdpHeader.LENGTH, length - UdpHeader.LENGTH),
                inboundRecipient.socketAddress(destination, UdpHeader.destinationPort(buf, at)),
                inboundSender.socketAddress(source, UdpHeader.sourcePort(buf, at))));
    }

    @Override
    protected void encode(ChannelHandlerContext ctx, DatagramPacket packet, List<Object> out) {
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
        ByteBuf payload = packet.content();
        if (payload.readableBytes() > UdpHeader.MAX_IPV4_PAYLOAD) {
            throw new EncoderException("UDP payload of " + payload.readableBytes() + " bytes exceeds "
                    + UdpHeader.MAX_IPV4_PAYLOAD + ", the most one IPv4 packet carries");
        }
        int source = outboundSource.toInt(sourceAddress);
        int destination = outboundDestination.toInt(destinationAddress);
        ByteBuf segment = Headroom.prepend(ctx.alloc(), payload, UdpHeader.LENGTH);
        UdpHeader.set(Headroom.headerBuffer(segment), segment.readerIndex(), source, destination, sender.getPort(), recipient.getPort(),
                payload, checksums.compute());
        out.add(new Ipv4Datagram(source, destination, Ipv4Header.PROTOCOL_UDP, segment));
    }
}
