package org.tuntap.codec.ipv4;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.buffer.UnpooledByteBufAllocator;
import org.junit.jupiter.api.Test;
import org.tuntap.codec.DropReason;
import org.tuntap.codec.udp.UdpHeader;
import org.tuntap.codec.udp.UdpPackets;

import java.net.InetSocketAddress;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

/**
 * The word views (the IPv4 fixed header in three reads, the UDP header in one) give every field
 * and every verdict the per-field accessors give: on a valid datagram, and on thousands of
 * mutations of it (any byte of the headers changed, the length cut), on heap and direct buffers.
 */
class Ipv4FixedHeaderTest {

    private static final int SOURCE = 0xC000_0201;      // 192.0.2.1
    private static final int DESTINATION = 0xC633_6402; // 198.51.100.2

    @Test
    void aValidDatagramReadsAsThePerFieldAccessorsReadIt() {
        ByteBuf packet = datagram(Unpooled.buffer(), 64);
        try {
            Ipv4FixedHeader header = new Ipv4FixedHeader().load(packet, 0);
            assertNull(header.check(packet.readableBytes(), true));
            assertAgrees(packet, 0, header);
            assertEquals(SOURCE, header.source());
            assertEquals(DESTINATION, header.destination());
            assertEquals(Ipv4Header.PROTOCOL_UDP, header.protocol());
            assertEquals(20 + 8 + 64, header.totalLength());

            long udp = UdpHeader.word(packet, 20);
            assertEquals(40000, UdpHeader.sourcePort(udp));
            assertEquals(7, UdpHeader.destinationPort(udp));
            assertEquals(8 + 64, UdpHeader.length(udp));
            assertEquals(UdpHeader.checksumField(packet, 20), UdpHeader.checksumField(udp));
            assertNull(UdpHeader.check(udp, packet, 20, 8 + 64, SOURCE, DESTINATION, true));
        } finally {
            packet.release();
        }
    }

    @Test
    void mutatedHeadersGetTheSameVerdictsFromBothViews() {
        Random random = new Random(8);
        for (boolean direct : new boolean[] {false, true}) {
            for (int round = 0; round < 4000; round++) {
                ByteBuf packet = datagram(direct ? UnpooledByteBufAllocator.DEFAULT.directBuffer() : Unpooled.buffer(),
                        random.nextInt(40));
                try {
                    int mutations = 1 + random.nextInt(3);
                    for (int i = 0; i < mutations; i++) { // somewhere in the IPv4 or UDP header
                        packet.setByte(random.nextInt(28), random.nextInt(256));
                    }
                    int length = random.nextInt(4) == 0 ? 20 + random.nextInt(packet.readableBytes() - 19) : packet.readableBytes();
                    String where = "round " + round + (direct ? " (direct)" : " (heap)");
                    compare(packet, length, where);
                } finally {
                    packet.release();
                }
            }
        }
    }

    /** Both views' verdicts on the IPv4 header, and when it passes, on the UDP header behind it. */
    private static void compare(ByteBuf packet, int length, String where) {
        Ipv4FixedHeader header = new Ipv4FixedHeader().load(packet, 0);
        assertAgrees(packet, 0, header);
        if (header.hasOptions()) {
            return; // the word view leaves options to Ipv4Header.check
        }
        for (boolean verify : new boolean[] {false, true}) {
            DropReason expected = Ipv4Header.check(packet, 0, length, verify);
            assertEquals(expected, header.check(length, verify), where + ", verify " + verify);
            if (expected == null && header.totalLength() >= 20 + UdpHeader.LENGTH) {
                int available = header.totalLength() - 20;
                long udp = UdpHeader.word(packet, 20);
                assertEquals(UdpHeader.check(packet, 20, available, header.source(), header.destination(), verify),
                        UdpHeader.check(udp, packet, 20, available, header.source(), header.destination(), verify),
                        where + ", UDP, verify " + verify);
            }
        }
    }

    private static void assertAgrees(ByteBuf packet, int index, Ipv4FixedHeader header) {
        assertEquals(Ipv4Header.version(packet, index), header.version());
        assertEquals(Ipv4Header.headerLength(packet, index), header.headerLength());
        assertEquals(Ipv4Header.totalLength(packet, index), header.totalLength());
        assertEquals(Ipv4Header.isFragment(packet, index), header.isFragment());
        assertEquals(Ipv4Header.protocol(packet, index), header.protocol());
        assertEquals(Ipv4Header.source(packet, index), header.source());
        assertEquals(Ipv4Header.destination(packet, index), header.destination());
    }

    /** A UDP datagram 192.0.2.1:40000 → 198.51.100.2:7 with {@code payload} bytes, both checksums set, in {@code into}. */
    private static ByteBuf datagram(ByteBuf into, int payload) {
        byte[] bytes = new byte[payload];
        new Random(payload).nextBytes(bytes);
        ByteBuf built = UdpPackets.build(UnpooledByteBufAllocator.DEFAULT, new InetSocketAddress("192.0.2.1", 40000),
                new InetSocketAddress("198.51.100.2", 7), Unpooled.wrappedBuffer(bytes));
        try {
            return into.writeBytes(built);
        } finally {
            built.release();
        }
    }
}
