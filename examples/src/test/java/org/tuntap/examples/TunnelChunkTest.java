package org.tuntap.examples;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.socket.DatagramPacket;
import io.netty.channel.unix.SegmentedDatagramPacket;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The offload tunnel's framing without a kernel: reads cut by {@link ChunkSplitter} into
 * datagrams that fit the link (as UDP GSO sends them, then as GRO and Netty hand them over, one
 * datagram each) and joined by {@link ChunkReassembler}, byte for byte; losses, duplicates,
 * reordering and strangers' datagrams counted, never joined into a wrong packet; nothing leaked.
 */
class TunnelChunkTest {
    private static final ByteBufAllocator ALLOC = PooledByteBufAllocator.DEFAULT;
    private static final InetSocketAddress PEER = new InetSocketAddress("192.0.2.2", 51820);
    /** A 1500-byte link over IPv4. */
    private static final int DATAGRAM = 1472;
    /** The largest read a TunChannel with virtio-net headers returns. */
    private static final int LARGEST_READ = 65_535 + 10;

    private final ChunkReassembler reassembler = new ChunkReassembler();

    @AfterEach
    void release() {
        reassembler.release();
    }

    @Test
    void everyReadSizeCrossesByteForByteWithGsoAndWithout() {
        for (boolean gso : new boolean[] {true, false}) {
            ChunkSplitter splitter = new ChunkSplitter(DATAGRAM, gso);
            for (int size : new int[] {1, 40, DATAGRAM - 8, DATAGRAM - 7, 3 * 1464, 40_000, LARGEST_READ}) {
                byte[] read = bytes(size, size);
                List<DatagramPacket> sent = split(splitter, read);
                for (DatagramPacket packet : sent) {
                    assertTrue(packet.content().readableBytes() <= ChunkSplitter.MAX_UDP_PAYLOAD, "one send fits UDP");
                    if (packet instanceof SegmentedDatagramPacket segmented) {
                        assertTrue(gso, "segments only with GSO");
                        assertEquals(DATAGRAM, segmented.segmentSize());
                        assertTrue(segmented.content().readableBytes() <= ChunkSplitter.MAX_GSO_SEGMENTS * DATAGRAM);
                    }
                    assertEquals(PEER, packet.recipient());
                }
                List<ByteBuf> datagrams = received(sent);
                datagrams.forEach(d -> assertTrue(d.readableBytes() <= DATAGRAM, "each datagram fits the link"));
                assertEquals(TunnelChunk.chunksFor(size, DATAGRAM - 8), datagrams.size());
                assertArrayEquals(read, join(datagrams), size + " bytes, gso " + gso);
            }
        }
        assertEquals(0, reassembler.malformed() + reassembler.duplicates() + reassembler.incomplete());
    }

    @Test
    void aLostChunkLosesItsReadOnlyAndTheNextCrosses() {
        ChunkSplitter splitter = new ChunkSplitter(DATAGRAM, true);
        List<ByteBuf> first = received(split(splitter, bytes(10_000, 1)));
        first.remove(3).release();
        assertNull(join(first));
        byte[] second = bytes(5_000, 2);
        assertArrayEquals(second, join(received(split(splitter, second))));
        assertEquals(1, reassembler.incomplete());
    }

    @Test
    void chunksOutOfOrderJoinAndDuplicatesAreDropped() {
        ChunkSplitter splitter = new ChunkSplitter(DATAGRAM, true);
        byte[] read = bytes(20_000, 3);
        List<ByteBuf> datagrams = received(split(splitter, read));
        Collections.reverse(datagrams);
        ByteBuf copyOfLast = datagrams.get(0).copy();
        datagrams.add(1, datagrams.get(0).copy()); // the same chunk twice, before the read is whole
        assertArrayEquals(read, join(datagrams));
        assertNull(reassembler.add(ALLOC, copyOfLast), "a chunk of a read already joined");
        assertEquals(2, reassembler.duplicates());
    }

    @Test
    void datagramsThatAreNoChunksAreDroppedAsMalformed() {
        ByteBuf ipPacket = ALLOC.directBuffer().writeBytes(bytes(60, 4));
        ipPacket.setByte(0, 0x45); // what a tunnel without --offload sends
        assertNull(reassembler.add(ALLOC, ipPacket));
        ByteBuf indexPastCount = ALLOC.directBuffer();
        TunnelChunk.write(indexPastCount, 2, 2, 7);
        assertNull(reassembler.add(ALLOC, indexPastCount.writeByte(1)));
        ByteBuf headerOnly = ALLOC.directBuffer();
        TunnelChunk.write(headerOnly, 0, 1, 8);
        assertNull(reassembler.add(ALLOC, headerOnly));
        ByteBuf first = ALLOC.directBuffer();
        TunnelChunk.write(first, 0, 3, 9);
        assertNull(reassembler.add(ALLOC, first.writeByte(1)));
        ByteBuf otherCount = ALLOC.directBuffer();
        TunnelChunk.write(otherCount, 1, 4, 9);
        assertNull(reassembler.add(ALLOC, otherCount.writeByte(1)), "a count that disagrees with its read's");
        assertEquals(4, reassembler.malformed());
    }

    @Test
    void aPeerThatRestartsIsFollowedAtOnce() {
        ChunkSplitter before = new ChunkSplitter(DATAGRAM, true);
        for (int i = 0; i < 5; i++) {
            assertNotNull(join(received(split(before, bytes(3_000, i)))));
        }
        byte[] afterRestart = bytes(3_000, 9);
        assertArrayEquals(afterRestart, join(received(split(new ChunkSplitter(DATAGRAM, true), afterRestart))),
                "sequence 0 again");
    }

    @Test
    void aReadTooLongToCutIsRefusedAndReleased() {
        ChunkSplitter splitter = new ChunkSplitter(100, true);
        ByteBuf read = ALLOC.directBuffer().writeBytes(new byte[splitter.maxReadBytes() + 1]);
        List<DatagramPacket> sent = new ArrayList<>();
        assertEquals(0, splitter.split(ALLOC, read, PEER, sent::add));
        assertEquals(0, read.refCnt());
        assertTrue(sent.isEmpty());
    }

    private static List<DatagramPacket> split(ChunkSplitter splitter, byte[] read) {
        List<DatagramPacket> sent = new ArrayList<>();
        ByteBuf buf = ALLOC.directBuffer(read.length).writeBytes(read);
        splitter.split(ALLOC, buf, PEER, sent::add);
        assertEquals(0, buf.refCnt(), "the read is released");
        return sent;
    }

    /** What the peer's socket hands over: each send cut at its segment size, as GRO and Netty do. */
    private static List<ByteBuf> received(List<DatagramPacket> sent) {
        List<ByteBuf> datagrams = new ArrayList<>();
        for (DatagramPacket packet : sent) {
            ByteBuf content = packet.content();
            int segment = packet instanceof SegmentedDatagramPacket s ? s.segmentSize() : content.readableBytes();
            while (content.isReadable()) {
                datagrams.add(content.readRetainedSlice(Math.min(segment, content.readableBytes())));
            }
            packet.release();
        }
        return datagrams;
    }

    /** Feeds every datagram to the reassembler; the joined read as bytes, or null if none came whole. */
    private byte[] join(List<ByteBuf> datagrams) {
        byte[] joined = null;
        for (ByteBuf datagram : datagrams) {
            ByteBuf whole = reassembler.add(ALLOC, datagram);
            if (whole != null) {
                assertNull(joined, "one read joined once");
                joined = ByteBufUtil.getBytes(whole);
                whole.release();
            }
        }
        return joined;
    }

    private static byte[] bytes(int length, long seed) {
        byte[] bytes = new byte[length];
        new Random(seed).nextBytes(bytes);
        return bytes;
    }
}
