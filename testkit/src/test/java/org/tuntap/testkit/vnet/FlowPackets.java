package org.tuntap.testkit.vnet;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import org.tuntap.codec.checksum.InternetChecksum;
import org.tuntap.codec.ipv4.Ipv4Header;
import org.tuntap.codec.ipv4.Ipv4Repr;
import org.tuntap.codec.ipv6.Ipv6Header;
import org.tuntap.codec.ipv6.Ipv6Repr;
import org.tuntap.codec.tcp.TcpHeader;
import org.tuntap.codec.udp.UdpHeader;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Arrays;

/**
 * Whole IPv4/IPv6 TCP and UDP packets with correct checksums, built from the codec's header
 * representations: a flow from 192.0.2.1 (2001:db8::1) to 198.51.100.2 (2001:db8::2).
 */
final class FlowPackets {
    static final Inet4Address SOURCE4 = v4("192.0.2.1");
    static final Inet4Address DESTINATION4 = v4("198.51.100.2");
    static final Inet6Address SOURCE6 = v6("2001:db8::1");
    static final Inet6Address DESTINATION6 = v6("2001:db8::2");
    static final long ACK = 0x1234_5678L;
    /** TCP timestamps (kind 8) behind two NOPs: the options of an established Linux connection. */
    static final byte[] TIMESTAMPS = {1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2};

    private FlowPackets() {
    }

    /** The first {@code length} bytes of a numbered pattern starting at {@code first}. */
    static byte[] payload(int length, int first) {
        byte[] payload = new byte[length];
        for (int i = 0; i < length; i++) {
            payload[i] = (byte) (first + i * 7);
        }
        return payload;
    }

    static Ipv4Repr ip4(int identification) {
        return new Ipv4Repr().source(SOURCE4).destination(DESTINATION4).ttl(64).identification(identification)
                .dontFragment(true);
    }

    static Ipv6Repr ip6() {
        return new Ipv6Repr().source(SOURCE6).destination(DESTINATION6).hopLimit(64);
    }

    static byte[] tcp4(Ipv4Repr ip, int sourcePort, long sequence, int flags, byte[] options, byte[] payload) {
        return ipv4(ip.protocol(TcpHeader.PROTOCOL), tcp(sourcePort, sequence, flags, options, payload));
    }

    static byte[] tcp6(Ipv6Repr ip, int sourcePort, long sequence, int flags, byte[] options, byte[] payload) {
        return ipv6(ip.nextHeader(TcpHeader.PROTOCOL), tcp(sourcePort, sequence, flags, options, payload));
    }

    static byte[] udp4(Ipv4Repr ip, int sourcePort, byte[] payload) {
        return ipv4(ip.protocol(Ipv4Header.PROTOCOL_UDP), udp(sourcePort, payload));
    }

    static byte[] udp6(Ipv6Repr ip, int sourcePort, byte[] payload) {
        return ipv6(ip.nextHeader(Ipv6Header.PROTOCOL_UDP), udp(sourcePort, payload));
    }

    /** An IPv4 packet of another protocol (ICMP, say) carrying {@code payload} as it is. */
    static byte[] other4(Ipv4Repr ip, int protocol, byte[] payload) {
        ByteBuf packet = Unpooled.buffer(ip.headerLength() + payload.length);
        try {
            ip.protocol(protocol).emit(packet, 0, payload.length, true);
            return ByteBufUtil.getBytes(packet.writerIndex(ip.headerLength()).writeBytes(payload));
        } finally {
            packet.release();
        }
    }

    /** A TCP segment to port 443, checksum 0 (filled in by {@link #ipv4}/{@link #ipv6}). */
    private static byte[] tcp(int sourcePort, long sequence, int flags, byte[] options, byte[] payload) {
        int headerLength = TcpHeader.MIN_LENGTH + options.length;
        ByteBuf tcp = Unpooled.buffer(headerLength + payload.length);
        try {
            tcp.writeShort(sourcePort).writeShort(443).writeInt((int) sequence).writeInt((int) ACK)
                    .writeByte(headerLength / 4 << 4).writeByte(flags).writeShort(501).writeShort(0).writeShort(0)
                    .writeBytes(options).writeBytes(payload);
            return ByteBufUtil.getBytes(tcp);
        } finally {
            tcp.release();
        }
    }

    /** A UDP datagram to port 4789, checksum 0 (filled in by {@link #ipv4}/{@link #ipv6}). */
    private static byte[] udp(int sourcePort, byte[] payload) {
        ByteBuf udp = Unpooled.buffer(UdpHeader.LENGTH + payload.length);
        try {
            udp.writeShort(sourcePort).writeShort(4789).writeShort(UdpHeader.LENGTH + payload.length).writeShort(0)
                    .writeBytes(payload);
            return ByteBufUtil.getBytes(udp);
        } finally {
            udp.release();
        }
    }

    private static byte[] ipv4(Ipv4Repr ip, byte[] transport) {
        ByteBuf packet = Unpooled.buffer(ip.headerLength() + transport.length);
        try {
            ip.emit(packet, 0, transport.length, true);
            packet.writerIndex(ip.headerLength()).writeBytes(transport);
            long pseudo = InternetChecksum.pseudoHeaderSum(ip.source(), ip.destination(), ip.protocol(), transport.length);
            setTransportChecksum(packet, ip.headerLength(), ip.protocol(), pseudo);
            return ByteBufUtil.getBytes(packet);
        } finally {
            packet.release();
        }
    }

    private static byte[] ipv6(Ipv6Repr ip, byte[] transport) {
        ByteBuf packet = Unpooled.buffer(Ipv6Header.LENGTH + transport.length);
        try {
            ip.emit(packet, 0, transport.length);
            packet.writerIndex(Ipv6Header.LENGTH).writeBytes(transport);
            long pseudo = InternetChecksum.pseudoHeaderSumIpv6(packet, 0, ip.nextHeader(), transport.length);
            setTransportChecksum(packet, Ipv6Header.LENGTH, ip.nextHeader(), pseudo);
            return ByteBufUtil.getBytes(packet);
        } finally {
            packet.release();
        }
    }

    private static void setTransportChecksum(ByteBuf packet, int at, int protocol, long pseudo) {
        int checksum = InternetChecksum.finish(InternetChecksum.add(pseudo, packet, at, packet.writerIndex() - at));
        if (protocol == TcpHeader.PROTOCOL) {
            TcpHeader.setChecksumField(packet, at, checksum);
        } else {
            UdpHeader.setChecksumField(packet, at, checksum == 0 ? 0xFFFF : checksum);
        }
    }

    /** A copy with one byte of the payload flipped: its transport checksum is now wrong. */
    static byte[] corrupted(byte[] packet) {
        byte[] copy = Arrays.copyOf(packet, packet.length);
        copy[copy.length - 1] ^= 0x5A;
        return copy;
    }

    private static Inet4Address v4(String address) {
        try {
            return (Inet4Address) InetAddress.getByName(address);
        } catch (UnknownHostException e) {
            throw new AssertionError(e);
        }
    }

    private static Inet6Address v6(String address) {
        try {
            return (Inet6Address) InetAddress.getByName(address);
        } catch (UnknownHostException e) {
            throw new AssertionError(e);
        }
    }
}
