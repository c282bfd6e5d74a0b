package org.tuntap.transport.linux;

import java.nio.ByteBuffer;

/** IPv4 TCP segments for the offload tests, built and read by hand (the transport has no codecs). */
final class Ipv4Tcp {
    static final int PROTOCOL_TCP = 6;
    static final int FIN = 0x01;
    static final int SYN = 0x02;
    static final int RST = 0x04;
    static final int PSH = 0x08;
    static final int ACK = 0x10;

    private Ipv4Tcp() {
    }

    /**
     * An IPv4 TCP segment. With {@code partialChecksum} the TCP checksum field holds only the
     * folded pseudo-header sum (what NEEDS_CSUM asks the receiver to complete); otherwise both
     * checksums are complete.
     */
    static byte[] build(byte[] source, int sourcePort, byte[] destination, int destinationPort,
                        long seq, long ack, int flags, int window, byte[] options, byte[] payload,
                        boolean partialChecksum) {
        int tcpLength = 20 + options.length + payload.length;
        int total = Ipv4Udp.IPV4_HEADER + tcpLength;
        ByteBuffer b = ByteBuffer.allocate(total);
        b.put((byte) 0x45).put((byte) 0).putShort((short) total)
                .putShort((short) 0).putShort((short) 0x4000) // id, DF
                .put((byte) 64).put((byte) PROTOCOL_TCP).putShort((short) 0)
                .put(source).put(destination);
        b.putShort((short) sourcePort).putShort((short) destinationPort)
                .putInt((int) seq).putInt((int) ack)
                .put((byte) (((20 + options.length) / 4) << 4)).put((byte) flags)
                .putShort((short) window).putShort((short) 0).putShort((short) 0)
                .put(options).put(payload);
        byte[] p = b.array();
        int ipChecksum = Ipv4Udp.checksum(0, p, 0, Ipv4Udp.IPV4_HEADER);
        p[10] = (byte) (ipChecksum >>> 8);
        p[11] = (byte) ipChecksum;
        int pseudo = 0;
        for (int i = 12; i < 20; i += 2) {
            pseudo += ((p[i] & 0xFF) << 8) | (p[i + 1] & 0xFF);
        }
        pseudo += PROTOCOL_TCP + tcpLength;
        int check;
        if (partialChecksum) {
            while ((pseudo >>> 16) != 0) {
                pseudo = (pseudo & 0xFFFF) + (pseudo >>> 16);
            }
            check = pseudo; // folded, not inverted: the receiver adds the segment and inverts
        } else {
            check = Ipv4Udp.checksum(pseudo, p, Ipv4Udp.IPV4_HEADER, tcpLength);
        }
        p[Ipv4Udp.IPV4_HEADER + 16] = (byte) (check >>> 8);
        p[Ipv4Udp.IPV4_HEADER + 17] = (byte) check;
        return p;
    }

    static int headerLength(byte[] p) {
        return ((p[Ipv4Udp.IPV4_HEADER + 12] & 0xF0) >>> 4) * 4;
    }

    static int flags(byte[] p) {
        return p[Ipv4Udp.IPV4_HEADER + 13] & 0x3F;
    }

    static long seq(byte[] p) {
        return ByteBuffer.wrap(p).getInt(Ipv4Udp.IPV4_HEADER + 4) & 0xFFFFFFFFL;
    }

    static int payloadLength(byte[] p) {
        return Ipv4Udp.totalLength(p) - Ipv4Udp.headerLength(p) - headerLength(p);
    }
}
