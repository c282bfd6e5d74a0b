package org.tuntap.examples;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A reader of the classic big-endian pcap files the capture handler writes, for assertions. */
final class PcapFile {
    final int linkType;
    final List<Record> records = new ArrayList<>();

    record Record(long epochMicros, byte[] packet) {
    }

    PcapFile(byte[] capture) {
        ByteBuffer file = ByteBuffer.wrap(capture);
        assertTrue(capture.length >= 24, "a global header");
        assertEquals(0xa1b2c3d4, file.getInt(0), "pcap magic (microseconds, big-endian)");
        assertEquals(2, file.getShort(4), "major version");
        assertEquals(4, file.getShort(6), "minor version");
        linkType = file.getInt(20);
        for (int at = 24; at < capture.length; ) {
            assertTrue(at + 16 <= capture.length, "record header " + records.size() + " fits the file");
            long micros = (file.getInt(at) & 0xFFFFFFFFL) * 1_000_000 + file.getInt(at + 4);
            int captured = file.getInt(at + 8);
            assertEquals(captured, file.getInt(at + 12), "whole packets captured");
            at += 16;
            assertTrue(at + captured <= capture.length, "record " + records.size() + " fits the file");
            records.add(new Record(micros, Arrays.copyOfRange(capture, at, at + captured)));
            at += captured;
        }
    }

    /** The IPv4 packet of a record: after the Ethernet header for LINKTYPE_ETHERNET. */
    byte[] ipv4(Record record) {
        byte[] packet = record.packet();
        if (linkType == 1) {
            assertEquals(0x0800, ((packet[12] & 0xFF) << 8) | (packet[13] & 0xFF), "ethertype IPv4");
            return Arrays.copyOfRange(packet, 14, packet.length);
        }
        return packet;
    }

    static int u16(byte[] bytes, int at) {
        return ((bytes[at] & 0xFF) << 8) | (bytes[at + 1] & 0xFF);
    }

    /** The one's-complement sum of {@code bytes[from, to)} folded to 16 bits, plus {@code seed}. */
    static int sum(long seed, byte[] bytes, int from, int to) {
        long sum = seed;
        for (int i = from; i < to; i += 2) {
            sum += ((bytes[i] & 0xFF) << 8) | (i + 1 < to ? bytes[i + 1] & 0xFF : 0);
        }
        while ((sum >> 16) != 0) {
            sum = (sum & 0xFFFF) + (sum >> 16);
        }
        return (int) sum;
    }

    /** Whether the IPv4 header checksum verifies (a nonzero field summing to 0xFFFF). */
    static boolean ipv4ChecksumValid(byte[] ip) {
        int headerLength = (ip[0] & 0x0F) * 4;
        return u16(ip, 10) != 0 && sum(0, ip, 0, headerLength) == 0xFFFF;
    }

    /** Whether the UDP checksum is present and verifies over the pseudo-header. */
    static boolean udpChecksumValid(byte[] ip) {
        int headerLength = (ip[0] & 0x0F) * 4;
        int udpLength = u16(ip, headerLength + 4);
        long pseudo = u16(ip, 12) + u16(ip, 14) + u16(ip, 16) + u16(ip, 18) + 17 + udpLength;
        return u16(ip, headerLength + 6) != 0 && sum(pseudo, ip, headerLength, headerLength + udpLength) == 0xFFFF;
    }
}
