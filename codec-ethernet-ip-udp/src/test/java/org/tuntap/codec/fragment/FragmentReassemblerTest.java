package org.tuntap.codec.fragment;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.PooledByteBufAllocator;
import org.junit.jupiter.api.Test;
import org.tuntap.codec.DropReason;
import org.tuntap.codec.TestPackets;
import org.tuntap.codec.checksum.InternetChecksum;
import org.tuntap.codec.ipv6.Ipv6Header;
import org.tuntap.codec.ipv6.Ipv6Packet;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The reassembly engine on a clock the test moves: completion in any order, the drop rules, the limits, no leaks. */
class FragmentReassemblerTest {

    private static final int HEADER = 20; // a stand-in header before each fragment's data
    private static final FragmentKey KEY4 = FragmentKey.ipv4(0xc0000201, 0xc6336402, 17, 0x1234);
    private static final FragmentKey KEY6 = FragmentKey.ipv6(0x20010db8_00000000L, 1, 0x20010db8_00000000L, 2, 0xabcdef);

    private long now = 1_000_000_000L;
    private final List<ByteBuf> offered = new ArrayList<>();
    private FragmentReassembler reassembler = new FragmentReassembler(PooledByteBufAllocator.DEFAULT, ReassemblyLimits.DEFAULT, () -> now);

    private static byte[] payload(int length, int seed) {
        byte[] b = new byte[length];
        new Random(seed).nextBytes(b);
        return b;
    }

    /** A fragment packet: a header of marker bytes, then {@code data[offset, end)}. */
    private ByteBuf fragment(byte[] data, int offset, int end, int marker) {
        ByteBuf b = PooledByteBufAllocator.DEFAULT.directBuffer(HEADER + end - offset);
        for (int i = 0; i < HEADER; i++) {
            b.writeByte(marker);
        }
        b.writeBytes(data, offset, end - offset);
        offered.add(b);
        return b;
    }

    private Reassembled offer(FragmentKey key, byte[] data, int offset, int end, boolean more) {
        return reassembler.offer(key, fragment(data, offset, end, offset == 0 ? 0x11 : 0x22), HEADER, end - offset, offset, more);
    }

    private void assertAllReleased() {
        for (ByteBuf b : offered) {
            assertEquals(0, b.refCnt(), "every fragment released");
        }
        assertEquals(0, reassembler.bytesHeld());
    }

    private static void assertWhole(Reassembled whole, byte[] data) {
        assertNotNull(whole, "complete");
        assertArrayEquals(data, ByteBufUtil.getBytes(whole.content()));
        assertEquals("11".repeat(HEADER), ByteBufUtil.hexDump(whole.header()), "the first fragment's header");
        whole.release();
    }

    @Test
    void completesInAnyOrder() {
        byte[] data = payload(3000, 1);
        int[][] pieces = {{0, 1232}, {1232, 2464}, {2464, 3000}};
        int[][] orders = {{0, 1, 2}, {2, 1, 0}, {1, 2, 0}, {2, 0, 1}};
        for (int[] order : orders) {
            Reassembled whole = null;
            for (int i = 0; i < 3; i++) {
                int[] piece = pieces[order[i]];
                Reassembled r = offer(KEY6, data, piece[0], piece[1], piece[1] != 3000);
                if (i < 2) {
                    assertNull(r, "not yet");
                    assertEquals(1, reassembler.pendingDatagrams());
                } else {
                    whole = r;
                }
            }
            assertEquals(KEY6, whole.key());
            assertWhole(whole, data);
            assertEquals(0, reassembler.pendingDatagrams());
        }
        assertEquals(0, reassembler.dropCounters().total());
        assertAllReleased();
    }

    @Test
    void randomFragmentationsWithDuplicatesComplete() {
        Random random = new Random(815);
        for (int round = 0; round < 300; round++) {
            byte[] data = payload(1 + random.nextInt(FragmentReassembler.MAX_PAYLOAD), round);
            List<int[]> pieces = new ArrayList<>();
            for (int offset = 0; offset < data.length; ) {
                int end = Math.min(data.length, offset + 8 * (1 + random.nextInt(1200)));
                pieces.add(new int[] {offset, end});
                offset = end;
            }
            if (pieces.size() > ReassemblyLimits.DEFAULT.maxFragmentsPerDatagram()) {
                continue;
            }
            Collections.shuffle(pieces, random);
            FragmentKey key = FragmentKey.ipv4(round, 2, 17, round);
            Reassembled whole = null;
            for (int i = 0; i < pieces.size(); i++) {
                int[] piece = pieces.get(i);
                Reassembled r = offer(key, data, piece[0], piece[1], piece[1] != data.length);
                if (i < pieces.size() - 1) {
                    assertNull(r, "round " + round + ": complete only with the last piece");
                    if (random.nextInt(4) == 0) {
                        long duplicates = reassembler.dropCounters().get(DropReason.FRAGMENT_DUPLICATE);
                        assertNull(offer(key, data, piece[0], piece[1], piece[1] != data.length), "a duplicate");
                        assertEquals(duplicates + 1, reassembler.dropCounters().get(DropReason.FRAGMENT_DUPLICATE));
                    }
                } else {
                    whole = r;
                }
            }
            assertWhole(whole, data);
        }
        assertEquals(0, reassembler.pendingDatagrams());
        assertEquals(0, reassembler.dropCounters().total() - reassembler.dropCounters().get(DropReason.FRAGMENT_DUPLICATE));
        assertAllReleased();
    }

    @Test
    void anOverlapDropsTheWholeDatagramUntilItsTimeout() {
        byte[] data = payload(64, 2);
        for (FragmentKey key : new FragmentKey[] {KEY4, KEY6}) {
            assertNull(offer(key, data, 0, 24, true));
            assertNull(offer(key, data, 16, 40, true)); // overlaps 16..24
            assertEquals(1, reassembler.pendingDatagrams(), "remembered as discarded");
            assertNull(offer(key, data, 24, 64, false), "would have completed; the datagram is gone");
            assertNull(offer(key, data, 0, 24, true));
            now += Duration.ofSeconds(30).toNanos();
            assertEquals(0, reassembler.expire(), "a discarded datagram is not counted again as timed out");
            assertEquals(0, reassembler.pendingDatagrams());
            assertNull(offer(key, data, 0, 24, true));
            assertWhole(offer(key, data, 24, 64, false), data);
        }
        assertEquals(6, reassembler.dropCounters().get(DropReason.FRAGMENT_OVERLAP), "per family: the overlap, then two fragments of the discarded datagram");
        assertAllReleased();
    }

    @Test
    void overlapsOfEveryShapeAreCaught() {
        byte[] data = payload(80, 3);
        int[][] second = {{8, 16}, {0, 8}, {16, 48}, {0, 80}, {24, 40}, {8, 24}, {0, 16}, {16, 32}, {48, 80}};
        for (int[] piece : second) {
            FragmentKey key = FragmentKey.ipv4(piece[0], piece[1], 17, 1);
            assertNull(offer(key, data, 0, 16, true));         // [0, 16)
            assertNull(offer(key, data, 32, 48, true));        // [32, 48)
            long before = reassembler.dropCounters().get(DropReason.FRAGMENT_OVERLAP)
                    + reassembler.dropCounters().get(DropReason.FRAGMENT_DUPLICATE);
            boolean more = piece[1] != 80;
            assertNull(offer(key, data, piece[0], piece[1], more));
            boolean overlaps = piece[0] < 16 || (piece[0] < 48 && piece[1] > 32); // with [0, 16) or [32, 48)
            assertEquals(before + (overlaps ? 1 : 0), reassembler.dropCounters().get(DropReason.FRAGMENT_OVERLAP)
                    + reassembler.dropCounters().get(DropReason.FRAGMENT_DUPLICATE), "piece " + piece[0] + ".." + piece[1]);
        }
        assertEquals(1, reassembler.dropCounters().get(DropReason.FRAGMENT_DUPLICATE), "{0, 16} is the exact duplicate");
        reassembler.close();
        assertAllReleased();
    }

    @Test
    void inconsistentLengthsDropTheDatagram() {
        byte[] data = payload(FragmentReassembler.MAX_PAYLOAD + 16, 4);
        FragmentKey a = FragmentKey.ipv4(1, 2, 17, 1);
        assertNull(offer(a, data, 8, 16, true));
        assertNull(offer(a, data, 16, 24, false));
        assertNull(offer(a, data, 32, 40, false), "a second, different end");
        FragmentKey b = FragmentKey.ipv4(1, 2, 17, 2);
        assertNull(offer(b, data, 40, 48, false));
        assertNull(offer(b, data, 48, 56, true), "data beyond the end");
        FragmentKey c = FragmentKey.ipv4(1, 2, 17, 3);
        assertNull(offer(c, data, 40, 48, true));
        assertNull(offer(c, data, 0, 8, false), "an end before data already held");
        assertNull(offer(FragmentKey.ipv4(1, 2, 17, 4), data, 0, 12, true), "more to come, not a multiple of 8");
        assertNull(offer(FragmentKey.ipv4(1, 2, 17, 5), data, FragmentReassembler.MAX_PAYLOAD - 7, FragmentReassembler.MAX_PAYLOAD + 9, false),
                "past 65535 bytes");
        assertEquals(5, reassembler.dropCounters().get(DropReason.FRAGMENT_INCONSISTENT));
        reassembler.close();
        assertAllReleased();
    }

    @Test
    void incompleteDatagramsExpireOnTheClock() {
        byte[] data = payload(48, 5);
        assertEquals(Long.MAX_VALUE, reassembler.nextExpiry());
        assertNull(offer(KEY4, data, 0, 16, true));
        long deadline = now + Duration.ofSeconds(30).toNanos();
        assertEquals(deadline, reassembler.nextExpiry());
        now += Duration.ofSeconds(10).toNanos();
        assertNull(offer(KEY6, data, 16, 48, false));
        now = deadline - 1;
        assertEquals(0, reassembler.expire());
        assertEquals(2, reassembler.pendingDatagrams());
        now = deadline;
        assertEquals(1, reassembler.expire(), "the first, not the second (its own 30 s from its first fragment)");
        assertEquals(deadline + Duration.ofSeconds(10).toNanos(), reassembler.nextExpiry());
        // The missing piece of the second comes after its deadline: dropped, not completed late.
        now = reassembler.nextExpiry();
        assertNull(offer(KEY6, data, 0, 16, true));
        assertEquals(2, reassembler.dropCounters().get(DropReason.REASSEMBLY_TIMEOUT));
        reassembler.close();
        assertAllReleased();
    }

    @Test
    void aFloodStopsAtTheByteLimitAndTheHeldBytesAreBounded() {
        long limit = 64 * 1024;
        reassembler = new FragmentReassembler(PooledByteBufAllocator.DEFAULT, new ReassemblyLimits(limit, Duration.ofSeconds(30), 128), () -> now);
        byte[] data = payload(1024, 6);
        for (int i = 0; i < 1000; i++) {
            assertNull(offer(FragmentKey.ipv4(i, 2, 17, i), data, 0, 1024, true)); // first fragments that never complete
            assertTrue(reassembler.bytesHeld() <= limit);
        }
        long refused = reassembler.dropCounters().get(DropReason.REASSEMBLY_LIMIT);
        assertEquals(1000 - reassembler.pendingDatagrams(), refused);
        assertTrue(reassembler.pendingDatagrams() > 50, "the limit admits what fits: " + reassembler.pendingDatagrams());
        now += Duration.ofSeconds(30).toNanos();
        reassembler.expire();
        assertEquals(0, reassembler.bytesHeld());
        assertWhole(offer(KEY4, data, 0, 1024, false), data);
        assertAllReleased();
    }

    @Test
    void tooManyFragmentsDropTheDatagram() {
        reassembler = new FragmentReassembler(PooledByteBufAllocator.DEFAULT, new ReassemblyLimits(1 << 20, Duration.ofSeconds(30), 4), () -> now);
        byte[] data = payload(40, 7);
        for (int offset = 0; offset < 32; offset += 8) {
            assertNull(offer(KEY6, data, offset, offset + 8, true));
        }
        assertNull(offer(KEY6, data, 32, 40, false), "the fifth");
        assertEquals(1, reassembler.dropCounters().get(DropReason.REASSEMBLY_LIMIT));
        assertEquals(0, reassembler.bytesHeld());
        assertAllReleased();
    }

    @Test
    void closeReleasesEverythingAndRefusesMore() {
        byte[] data = payload(64, 8);
        assertNull(offer(KEY4, data, 0, 16, true));
        assertNull(offer(KEY6, data, 16, 64, false));
        reassembler.close();
        assertAllReleased();
        ByteBuf late = fragment(data, 16, 32, 0);
        assertThrows(IllegalStateException.class, () -> reassembler.offer(KEY4, late, HEADER, 16, 16, true));
        assertEquals(0, late.refCnt(), "released though refused");
    }

    @Test
    void theKernelsIpv6FragmentsReassembleIntoAValidUdpDatagram() {
        Reassembled whole = null;
        for (int i : new int[] {2, 0, 1}) {
            ByteBuf in = TestPackets.tracked(TestPackets.fixture("tun6-udp-3000-fragment" + i + ".hex"));
            Ipv6Packet fragment = Ipv6Packet.parse(in).value();
            in.release();
            FragmentKey key = FragmentKey.ipv6(fragment.sourceHigh(), fragment.sourceLow(), fragment.destinationHigh(),
                    fragment.destinationLow(), fragment.fragmentIdentification());
            int data = fragment.fragmentHeaderIndex() + 8; // the fragmentable part follows the fragment header
            int end = fragment.content().readerIndex() + 40 + fragment.payloadLength();
            Reassembled r = reassembler.offer(key, fragment.content(), data, end - data,
                    fragment.fragmentOffset() * 8, fragment.moreFragments());
            if (r != null) {
                whole = r;
            }
        }
        assertNotNull(whole);
        ByteBuf udp = whole.content();
        assertEquals(3008, udp.readableBytes());
        assertEquals(3008, udp.getUnsignedShort(4), "the UDP length field");
        long pseudo = InternetChecksum.pseudoHeaderSumIpv6(whole.header(), whole.header().readerIndex(), 17, 3008);
        assertEquals(0, InternetChecksum.finish(InternetChecksum.add(pseudo, udp, udp.readerIndex(), 3008)),
                "the kernel's UDP checksum verifies over the reassembled datagram");
        assertEquals(Ipv6Header.LENGTH + 8, whole.header().readableBytes(), "IPv6 header and fragment header");
        whole.release();
        assertEquals(0, reassembler.bytesHeld());
    }
}
