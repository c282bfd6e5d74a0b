package org.tuntap.transport.linux;

import java.nio.ByteBuffer;

/**
 * Just enough IPv4/UDP for the device tests to check what the kernel sent and to hand it a
 * reply, without depending on the codec module (the transport must not). Big-endian fields
 * at their RFC 791 / RFC 768 offsets.
 */
final class Ipv4Udp {
    static final int IPV4_HEADER = 20;
    static final int UDP_HEADER = 8;
    static final int PROTOCOL_UDP = 17;

    private Ipv4Udp() {
    }

    static int version(byte[] p) {
        return (p[0] & 0xFF) >>> 4;
    }

    static int headerLength(byte[] p) {
        return (p[0] & 0x0F) * 4;
    }

    static int totalLength(byte[] p) {
        return u16(p, 2);
    }

    static int protocol(byte[] p) {
        return p[9] & 0xFF;
    }

    static byte[] source(byte[] p) {
        return slice(p, 12, 4);
    }

    static byte[] destination(byte[] p) {
        return slice(p, 16, 4);
    }

    static int sourcePort(byte[] p) {
        return u16(p, headerLength(p));
    }

    static int destinationPort(byte[] p) {
        return u16(p, headerLength(p) + 2);
    }

    static byte[] udpPayload(byte[] p) {
        int start = headerLength(p) + UDP_HEADER;
        return slice(p, start, u16(p, headerLength(p) + 4) - UDP_HEADER);
    }

    /** A datagram from {@code source}:{@code sourcePort} to {@code destination}:{@code destinationPort}, checksums right. */
    static byte[] build(byte[] source, int sourcePort, byte[] destination, int destinationPort, byte[] payload) {
        int total = IPV4_HEADER + UDP_HEADER + payload.length;
        ByteBuffer b = ByteBuffer.allocate(total);
        b.put((byte) 0x45).put((byte) 0).putShort((short) total)
                .putShort((short) 0x1234).putShort((short) 0x4000) // id, DF
                .put((byte) 64).put((byte) PROTOCOL_UDP).putShort((short) 0)
                .put(source).put(destination);
        b.putShort((short) sourcePort).putShort((short) destinationPort)
                .putShort((short) (UDP_HEADER + payload.length)).putShort((short) 0)
                .put(payload);
        byte[] p = b.array();
        int ipChecksum = checksum(0, p, 0, IPV4_HEADER);
        p[10] = (byte) (ipChecksum >>> 8);
        p[11] = (byte) ipChecksum;
        // UDP checksum over the pseudo-header (addresses, protocol, UDP length) and the datagram.
        int pseudo = sum(0, source, 0, 4);
        pseudo = sum(pseudo, destination, 0, 4);
        pseudo += PROTOCOL_UDP + UDP_HEADER + payload.length;
        int udpChecksum = checksum(pseudo, p, IPV4_HEADER, UDP_HEADER + payload.length);
        if (udpChecksum == 0) {
            udpChecksum = 0xFFFF; // 0 means "no checksum" in UDP over IPv4
        }
        p[IPV4_HEADER + 6] = (byte) (udpChecksum >>> 8);
        p[IPV4_HEADER + 7] = (byte) udpChecksum;
        return p;
    }

    /** Whether the IPv4 header checksum of {@code p} verifies (sums to 0xFFFF). */
    static boolean headerChecksumOk(byte[] p) {
        return checksum(0, p, 0, headerLength(p)) == 0;
    }

    /** The Internet checksum (RFC 1071) of {@code length} bytes, seeded with a partial sum. */
    static int checksum(int seed, byte[] data, int offset, int length) {
        int sum = sum(seed, data, offset, length);
        while ((sum >>> 16) != 0) {
            sum = (sum & 0xFFFF) + (sum >>> 16);
        }
        return ~sum & 0xFFFF;
    }

    private static int sum(int seed, byte[] data, int offset, int length) {
        int sum = seed;
        for (int i = 0; i + 1 < length; i += 2) {
            sum += u16(data, offset + i);
        }
        if ((length & 1) != 0) {
            sum += (data[offset + length - 1] & 0xFF) << 8;
        }
        return sum;
    }

    private static int u16(byte[] p, int offset) {
        return ((p[offset] & 0xFF) << 8) | (p[offset + 1] & 0xFF);
    }

    private static byte[] slice(byte[] p, int offset, int length) {
        byte[] s = new byte[length];
        System.arraycopy(p, offset, s, 0, length);
        return s;
    }
}
