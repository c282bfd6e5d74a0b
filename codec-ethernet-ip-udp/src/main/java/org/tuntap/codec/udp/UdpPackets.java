package org.tuntap.codec.udp;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.socket.DatagramPacket;
import org.tuntap.codec.DropReason;
import org.tuntap.codec.ParseResult;
import org.tuntap.codec.ipv4.Ipv4Header;
import org.tuntap.codec.ipv4.Ipv4Packet;
import org.tuntap.codec.ipv4.Ipv4Repr;

import java.net.Inet4Address;
import java.net.InetSocketAddress;

/**
 * Whole IPv4+UDP packets in one call, for tests and tools (the test kit's {@code sendUdp} and
 * {@code receiveUdp} use these). The pipeline codecs use the same header classes.
 */
public final class UdpPackets {

    private UdpPackets() {
    }

    /**
     * A new contiguous buffer holding an IPv4+UDP packet from {@code source} to
     * {@code destination} carrying {@code payload}'s readable bytes, both checksums computed
     * (identification 0, TTL 64, no flags). The payload is copied and left as it is (still the
     * caller's to release).
     */
    public static ByteBuf build(ByteBufAllocator alloc, InetSocketAddress source, InetSocketAddress destination, ByteBuf payload) {
        Ipv4Repr ip = new Ipv4Repr()
                .source(ipv4(source))
                .destination(ipv4(destination))
                .protocol(Ipv4Header.PROTOCOL_UDP);
        ByteBuf out = alloc.buffer(ip.headerLength() + UdpHeader.LENGTH + payload.readableBytes());
        try {
            write(out, ip, source.getPort(), destination.getPort(), payload, true);
            return out;
        } catch (RuntimeException e) {
            out.release();
            throw e;
        }
    }

    /**
     * Appends an IPv4+UDP packet to {@code out}: the IPv4 header as {@code ip} says (its
     * protocol is set to UDP), the UDP header with the checksum computed (or 0), the payload's
     * readable bytes (copied; the payload is not released or moved).
     */
    public static void write(ByteBuf out, Ipv4Repr ip, int sourcePort, int destinationPort, ByteBuf payload,
                             boolean udpChecksum) {
        ip.protocol(Ipv4Header.PROTOCOL_UDP);
        int payloadLength = payload.readableBytes();
        int start = out.writerIndex();
        int headerLength = ip.headerLength();
        out.ensureWritable(headerLength + UdpHeader.LENGTH + payloadLength);
        ip.emit(out, start, UdpHeader.LENGTH + payloadLength, true);
        UdpHeader.set(out, start + headerLength, ip.source(), ip.destination(), sourcePort, destinationPort,
                payload, udpChecksum);
        out.writerIndex(start + headerLength + UdpHeader.LENGTH);
        out.writeBytes(payload, payload.readerIndex(), payloadLength);
    }

    /**
     * Parses the readable bytes of {@code buf} as an IPv4 packet carrying UDP, verifying both
     * checksums. On success the {@link DatagramPacket}'s content is a retained slice of the
     * payload (release the packet); {@code buf} is not changed nor released.
     */
    public static ParseResult<DatagramPacket> parse(ByteBuf buf) {
        ParseResult<Ipv4Packet> ip = Ipv4Packet.parse(buf, true);
        if (!ip.isOk()) {
            return ParseResult.failed(ip.failure());
        }
        Ipv4Packet packet = ip.value();
        try {
            return parse(packet, true);
        } finally {
            packet.release();
        }
    }

    /**
     * Parses the payload of a valid IPv4 packet as UDP. On success the {@link DatagramPacket}'s
     * content is a retained slice of the payload; {@code packet} is not released.
     */
    public static ParseResult<DatagramPacket> parse(Ipv4Packet packet, boolean verifyChecksum) {
        if (packet.protocol() != Ipv4Header.PROTOCOL_UDP) {
            return ParseResult.failed(DropReason.WRONG_PROTOCOL);
        }
        if (packet.isFragment()) {
            return ParseResult.failed(DropReason.FRAGMENT);
        }
        ByteBuf content = packet.content();
        int at = packet.payloadIndex();
        DropReason problem = UdpHeader.check(content, at, packet.payloadLength(),
                packet.sourceInt(), packet.destinationInt(), verifyChecksum);
        if (problem != null) {
            return ParseResult.failed(problem);
        }
        int length = UdpHeader.length(content, at);
        return ParseResult.ok(new DatagramPacket(
                content.retainedSlice(at + UdpHeader.LENGTH, length - UdpHeader.LENGTH),
                new InetSocketAddress(packet.destination(), UdpHeader.destinationPort(content, at)),
                new InetSocketAddress(packet.source(), UdpHeader.sourcePort(content, at))));
    }

    private static Inet4Address ipv4(InetSocketAddress address) {
        if (address.getAddress() instanceof Inet4Address v4) {
            return v4;
        }
        throw new IllegalArgumentException("not a resolved IPv4 socket address: " + address);
    }

}
