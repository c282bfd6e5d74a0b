package org.tuntap.testsupport;

import java.nio.ByteBuffer;

/**
 * IPv4 and IPv6 packets carrying TCP or UDP, built byte by byte for tests, with every checksum
 * computed here (not by the codecs, so a test compares the codecs against an independent
 * oracle). IPv4 headers have no options, DF set, TTL 64; IPv6 headers have no extension headers,
 * hop limit 64; TCP windows are 65535.
 */
public final class InetPackets {
    public static final int PROTOCOL_TCP = 6;
    public static final int PROTOCOL_UDP = 17;
    public static final int IPV4_HEADER = 20;
    public static final int IPV6_HEADER = 40;
    public static final int UDP_HEADER = 8;

    private InetPackets() {
    }

    /** A TCP segment in an IPv4 packet ({@code source}/{@code destination} 4 bytes) or IPv6 (16 bytes). */
    public static byte[] tcp(byte[] source, byte[] destination, int sourcePort, int destinationPort, long seq, long ack,
                             int flags, int identification, byte[] options, byte[] payload) {
        ByteBuffer tcp = ByteBuffer.allocate(20 + options.length + payload.length);
        tcp.putShort((short) sourcePort).putShort((short) destinationPort).putInt((int) seq).putInt((int) ack)
                .put((byte) (((20 + options.length) / 4) << 4)).put((byte) flags).putShort((short) 65535)
                .putShort((short) 0).putShort((short) 0).put(options).put(payload);
        return ip(source, destination, PROTOCOL_TCP, identification, tcp.array(), 16, false);
    }

    /** A UDP datagram in an IPv4 packet ({@code source}/{@code destination} 4 bytes) or IPv6 (16 bytes). */
    public static byte[] udp(byte[] source, byte[] destination, int sourcePort, int destinationPort, int identification,
                             byte[] payload) {
        ByteBuffer udp = ByteBuffer.allocate(UDP_HEADER + payload.length);
        udp.putShort((short) sourcePort).putShort((short) destinationPort).putShort((short) (UDP_HEADER + payload.length))
                .putShort((short) 0).put(payload);
        return ip(source, destination, PROTOCOL_UDP, identification, udp.array(), 6, true);
    }

    private static byte[] ip(byte[] source, byte[] destination, int protocol, int identification, byte[] transport,
                             int checksumOffset, boolean zeroIsFfff) {
        boolean v4 = source.length == 4;
        int header = v4 ? IPV4_HEADER : IPV6_HEADER;
        ByteBuffer p = ByteBuffer.allocate(header + transport.length);
        if (v4) {
            p.put((byte) 0x45).put((byte) 0).putShort((short) (header + transport.length))
                    .putShort((short) identification).putShort((short) 0x4000)
                    .put((byte) 64).put((byte) protocol).putShort((short) 0).put(source).put(destination);
        } else {
            p.putInt(0x6000_0000).putShort((short) transport.length).put((byte) protocol).put((byte) 64)
                    .put(source).put(destination);
        }
        p.put(transport);
        byte[] packet = p.array();
        if (v4) {
            putShort(packet, 10, checksum(0, packet, 0, IPV4_HEADER));
        }
        int check = checksum(pseudoHeader(packet), packet, header, transport.length);
        putShort(packet, header + checksumOffset, check == 0 && zeroIsFfff ? 0xFFFF : check);
        return packet;
    }

    /** Where the TCP/UDP header starts. */
    public static int transportOffset(byte[] packet) {
        return version(packet) == 4 ? (packet[0] & 0x0F) * 4 : IPV6_HEADER;
    }

    public static int version(byte[] packet) {
        return (packet[0] & 0xFF) >>> 4;
    }

    public static int protocol(byte[] packet) {
        return version(packet) == 4 ? packet[9] & 0xFF : packet[6] & 0xFF;
    }

    /** TCP header length (data offset * 4). */
    public static int tcpHeaderLength(byte[] packet) {
        return ((packet[transportOffset(packet) + 12] & 0xF0) >>> 4) * 4;
    }

    public static int sourcePort(byte[] packet) {
        return getShort(packet, transportOffset(packet));
    }

    public static int destinationPort(byte[] packet) {
        return getShort(packet, transportOffset(packet) + 2);
    }

    public static long tcpSeq(byte[] packet) {
        return ByteBuffer.wrap(packet).getInt(transportOffset(packet) + 4) & 0xFFFF_FFFFL;
    }

    public static int tcpFlags(byte[] packet) {
        return packet[transportOffset(packet) + 13] & 0xFF;
    }

    /** The TCP or UDP payload. */
    public static byte[] payload(byte[] packet) {
        int from = transportOffset(packet) + (protocol(packet) == PROTOCOL_TCP ? tcpHeaderLength(packet) : UDP_HEADER);
        return java.util.Arrays.copyOfRange(packet, from, packet.length);
    }

    /**
     * Replaces the TCP/UDP checksum with what a sender with checksum offload leaves for the
     * receiver (NEEDS_CSUM): the pseudo-header's sum, folded and not inverted.
     */
    public static byte[] withPartialChecksum(byte[] packet) {
        byte[] p = packet.clone();
        int sum = pseudoHeader(p);
        while ((sum >>> 16) != 0) {
            sum = (sum & 0xFFFF) + (sum >>> 16);
        }
        putShort(p, transportOffset(p) + (protocol(p) == PROTOCOL_TCP ? 16 : 6), sum);
        return p;
    }

    /** Whether the IPv4 header checksum (if IPv4) and the TCP/UDP checksum check out. */
    public static boolean checksumsValid(byte[] packet) {
        int l4 = transportOffset(packet);
        if (version(packet) == 4 && checksum(0, packet, 0, l4) != 0) {
            return false;
        }
        return checksum(pseudoHeader(packet), packet, l4, packet.length - l4) == 0;
    }

    /** The pseudo-header's sum (unfolded) for the packet's TCP/UDP part. */
    private static int pseudoHeader(byte[] p) {
        boolean v4 = version(p) == 4;
        int addresses = v4 ? 12 : 8;
        int end = v4 ? 20 : 40;
        int sum = 0;
        for (int i = addresses; i < end; i += 2) {
            sum += getShort(p, i);
        }
        return sum + protocol(p) + (p.length - transportOffset(p));
    }

    /** The Internet checksum of {@code length} bytes from {@code offset}, starting from a partial sum. */
    public static int checksum(int initial, byte[] data, int offset, int length) {
        long sum = initial & 0xFFFF_FFFFL;
        for (int i = 0; i < length; i += 2) {
            int high = data[offset + i] & 0xFF;
            int low = i + 1 < length ? data[offset + i + 1] & 0xFF : 0;
            sum += (high << 8) | low;
        }
        while ((sum >>> 16) != 0) {
            sum = (sum & 0xFFFF) + (sum >>> 16);
        }
        return (int) (~sum & 0xFFFF);
    }

    private static int getShort(byte[] p, int at) {
        return ((p[at] & 0xFF) << 8) | (p[at + 1] & 0xFF);
    }

    private static void putShort(byte[] p, int at, int value) {
        p[at] = (byte) (value >>> 8);
        p[at + 1] = (byte) value;
    }
}
