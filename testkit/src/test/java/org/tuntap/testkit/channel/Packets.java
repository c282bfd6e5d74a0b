package org.tuntap.testkit.channel;

import java.nio.charset.StandardCharsets;

/** Packet bytes for channel tests: the channel moves packets and never parses them. */
final class Packets {
    private Packets() {
    }

    /** {@code length} bytes that start like an IPv4 header (the kernel insists on a version nibble). */
    static byte[] ipv4Like(int length, int seed) {
        byte[] packet = new byte[length];
        for (int i = 0; i < length; i++) {
            packet[i] = (byte) (seed + i);
        }
        packet[0] = 0x45;
        return packet;
    }

    static byte[] ipv4Like(String text) {
        byte[] body = text.getBytes(StandardCharsets.US_ASCII);
        byte[] packet = new byte[body.length + 1];
        packet[0] = 0x45;
        System.arraycopy(body, 0, packet, 1, body.length);
        return packet;
    }
}
