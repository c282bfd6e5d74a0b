package org.tuntap.codec.checksum;

import io.netty.buffer.AdaptiveByteBufAllocator;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.CompositeByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.util.internal.PlatformDependent;
import org.junit.jupiter.api.Test;
import org.tuntap.codec.TestPackets;

import java.util.Random;
import java.util.function.Function;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

class InternetChecksumTest {

    @Test
    void rfc1071Example() {
        // RFC 1071 section 3: the sum of 00 01 f2 03 f4 f5 f6 f7 is ddf2, so the checksum is 220d.
        ByteBuf buf = TestPackets.buf("0001f203f4f5f6f7");
        try {
            assertEquals(0xddf2, InternetChecksum.fold(InternetChecksum.add(0, buf, 0, 8)));
            assertEquals(0x220d, InternetChecksum.checksum(buf, 0, 8));
        } finally {
            buf.release();
        }
    }

    @Test
    void checkVectorHeaderChecksum() {
        ByteBuf buf = TestPackets.buf(TestPackets.CHECK_VECTOR);
        try {
            buf.setShort(10, 0);
            assertEquals(0xc0b8, InternetChecksum.checksum(buf, 0, 20));
        } finally {
            buf.release();
        }
    }

    /** Every length 0..300 and odd/even starts, on each kind of buffer, against the naive sum. */
    @Test
    void matchesNaiveSumOnEveryBufferKind() {
        Random random = new Random(1071);
        byte[] data = new byte[2100];
        random.nextBytes(data);
        check(data, b -> Unpooled.wrappedBuffer(b), 0, 300);
        check(data, b -> Unpooled.directBuffer(b.length).writeBytes(b), 0, 300);
        check(data, b -> PooledByteBufAllocator.DEFAULT.directBuffer(b.length).writeBytes(b), 0, 300);
        check(data, b -> PooledByteBufAllocator.DEFAULT.heapBuffer(b.length).writeBytes(b), 0, 300);
        check(data, b -> new AdaptiveByteBufAllocator().directBuffer(b.length).writeBytes(b), 0, 300);
        check(data, TestPackets_split::composite, 0, 300);
        // Long regions too.
        check(data, b -> Unpooled.directBuffer(b.length).writeBytes(b), 1400, 1600);
        check(data, b -> new AdaptiveByteBufAllocator().directBuffer(b.length).writeBytes(b), 1400, 1600);
        // Both sides of the length where direct buffers switch to their NIO view (without Unsafe).
        check(data, b -> PooledByteBufAllocator.DEFAULT.directBuffer(b.length).writeBytes(b),
                InternetChecksum.NIO_MIN_LENGTH - 9, InternetChecksum.NIO_MIN_LENGTH + 9);
        check(data, b -> Unpooled.wrappedBuffer(b), 1400, 1600);
        check(data, TestPackets_split::composite, 1400, 1600);
    }

    /**
     * Direct buffers are summed by raw address when Netty has {@code sun.misc.Unsafe} and through
     * their NIO view when it has not (its default on Java 25+); the build runs this class both
     * ways (codec pom, execution unsafe-test), and that run must really have Unsafe.
     */
    @Test
    void runsWithTheUnsafeSettingItClaims() {
        String expected = System.getProperty("tuntap.test.expectUnsafe");
        assumeTrue(expected != null, "only the unsafe-test run says which it should be");
        assertEquals(Boolean.parseBoolean(expected), PlatformDependent.hasUnsafe(),
                String.valueOf(PlatformDependent.getUnsafeUnavailabilityCause()));
    }

    private static void check(byte[] data, Function<byte[], ByteBuf> kind, int fromLength, int toLength) {
        ByteBuf buf = kind.apply(data);
        try {
            for (int start = 0; start < 9; start++) {
                for (int length = fromLength; length <= toLength && start + length <= data.length; length++) {
                    int expected = TestPackets.naiveChecksum(data, start, length);
                    assertEquals(expected, InternetChecksum.checksum(buf, start, length),
                            buf.getClass().getSimpleName() + " start " + start + " length " + length);
                    // A slice sees the same bytes from index 0.
                    ByteBuf slice = buf.slice(start, length);
                    assertEquals(expected, InternetChecksum.checksum(slice, 0, length));
                }
            }
        } finally {
            buf.release();
        }
    }

    /** Chaining regions (pseudo-header style) equals summing the concatenation. */
    @Test
    void regionsChain() {
        Random random = new Random(7);
        for (int round = 0; round < 200; round++) {
            byte[] data = new byte[random.nextInt(3000)];
            random.nextBytes(data);
            int cut = random.nextInt(data.length / 2 + 1) * 2; // even: regions must start at even offsets
            ByteBuf buf = Unpooled.wrappedBuffer(data);
            long sum = InternetChecksum.add(0, buf, 0, cut);
            sum = InternetChecksum.add(sum, buf, cut, data.length - cut);
            assertEquals(TestPackets.naiveChecksum(data, 0, data.length), InternetChecksum.finish(sum));
            buf.release();
        }
    }

    @Test
    void incrementalUpdateMatchesRecomputation() {
        Random random = new Random(1624);
        for (int round = 0; round < 2000; round++) {
            byte[] header = new byte[20];
            random.nextBytes(header);
            ByteBuf buf = Unpooled.wrappedBuffer(header);
            buf.setShort(10, 0);
            int checksum = InternetChecksum.checksum(buf, 0, 20);
            buf.setShort(10, checksum);
            // Rewrite the TTL/protocol word, as a router decrementing TTL does.
            int oldWord = buf.getUnsignedShort(8);
            int newWord = random.nextInt(0x10000);
            buf.setShort(8, newWord);
            int updated = InternetChecksum.update(checksum, oldWord, newWord);
            buf.setShort(10, 0);
            assertEquals(InternetChecksum.checksum(buf, 0, 20), updated, "round " + round);
            // And a 32-bit field: the source address, as NAT does.
            buf.setShort(10, updated);
            int oldAddress = buf.getInt(12);
            int newAddress = random.nextInt();
            buf.setInt(12, newAddress);
            int updated32 = InternetChecksum.update32(updated, oldAddress, newAddress);
            buf.setShort(10, 0);
            assertEquals(InternetChecksum.checksum(buf, 0, 20), updated32, "round " + round);
            buf.release();
        }
    }

    @Test
    void pseudoHeaderSumOfCheckVector() {
        // The check vector sent with a computed checksum: verifying it over pseudo-header + UDP gives 0.
        ByteBuf udp = TestPackets.buf("53613039000a00006869");
        try {
            long sum = InternetChecksum.pseudoHeaderSum(0x0a010203, 0xac100202, 17, 10);
            int checksum = InternetChecksum.finish(InternetChecksum.add(sum, udp, 0, 10));
            udp.setShort(6, checksum);
            assertEquals(0, InternetChecksum.finish(InternetChecksum.add(sum, udp, 0, 10)));
            // Independent: the pseudo-header bytes and the datagram, summed naively.
            byte[] all = TestPackets.bytes("0a010203 ac100202 0011 000a 53613039000a0000 6869");
            assertEquals(TestPackets.naiveChecksum(all, 0, all.length), checksum);
        } finally {
            udp.release();
        }
    }

    @Test
    void ipv6PseudoHeaderSumMatchesTheNaiveSumOfItsBytes() {
        Random random = new Random(8200);
        for (int round = 0; round < 1000; round++) {
            byte[] header = new byte[40]; // an IPv6 header: the addresses at 8..39
            random.nextBytes(header);
            int nextHeader = random.nextInt(256);
            int length = round == 0 ? 0xFFFF : round == 1 ? 0x12345 : random.nextInt(0x10000);
            // RFC 8200 section 8.1: source, destination, 32-bit length, 3 zero bytes, next header.
            byte[] pseudo = new byte[40];
            System.arraycopy(header, 8, pseudo, 0, 32);
            pseudo[32] = (byte) (length >>> 24);
            pseudo[33] = (byte) (length >>> 16);
            pseudo[34] = (byte) (length >>> 8);
            pseudo[35] = (byte) length;
            pseudo[39] = (byte) nextHeader;
            int expected = TestPackets.naiveChecksum(pseudo, 0, 40);

            ByteBuf buf = PooledByteBufAllocator.DEFAULT.directBuffer(44).writeZero(4).writeBytes(header);
            try {
                assertEquals(expected, InternetChecksum.finish(InternetChecksum.pseudoHeaderSumIpv6(buf, 4, nextHeader, length)), "round " + round);
                long sum = InternetChecksum.pseudoHeaderSumIpv6(buf.getLong(12), buf.getLong(20), buf.getLong(28), buf.getLong(36),
                        nextHeader, length);
                assertEquals(expected, InternetChecksum.finish(sum), "round " + round);
            } finally {
                buf.release();
            }
        }
    }

    /** Builds composites that split the data at odd places, so words straddle components. */
    static final class TestPackets_split {
        static ByteBuf composite(byte[] data) {
            CompositeByteBuf c = Unpooled.compositeBuffer();
            int[] cuts = {0, 3, 8, 9, 20, 333, 1001, 1500, data.length};
            for (int i = 0; i + 1 < cuts.length; i++) {
                if (cuts[i + 1] <= data.length && cuts[i] < cuts[i + 1]) {
                    c.addComponent(true, Unpooled.wrappedBuffer(data, cuts[i], cuts[i + 1] - cuts[i]));
                }
            }
            return c;
        }
    }
}
