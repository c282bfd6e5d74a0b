package org.tuntap.examples;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;

/**
 * The receiving half of the offload tunnel: joins the {@link TunnelChunk}s of one read of the
 * peer's device back into that read (virtio-net header and packet), copied into one direct buffer
 * for one {@code write}. (A composite of the datagrams would save the copy, but a 64 KiB read is
 * some 45 of them, more parts than the transport's {@code writev} takes: it would copy them into
 * a new array on every write instead.)
 *
 * <p>One read is joined at a time, as the peer sends them in order: a chunk of another read
 * abandons an unfinished one (counted in {@link #incomplete()}; the TCP inside retransmits, as
 * after a lost IP fragment). So a peer that restarts, numbering from 0 again, is followed at once.
 * Not thread-safe: the event loop's.
 */
final class ChunkReassembler {
    private final ByteBuf[] chunks = new ByteBuf[TunnelChunk.MAX_CHUNKS];
    private boolean active;
    private boolean started;
    private int sequence;
    private int count;
    private int received;

    private long malformed;
    private long duplicates;
    private long incomplete;

    /**
     * Takes one datagram (released or kept here) and returns the joined read when it was the last
     * chunk missing, else null.
     */
    ByteBuf add(ByteBufAllocator alloc, ByteBuf datagram) {
        if (!TunnelChunk.isValid(datagram)) {
            malformed++;
            datagram.release();
            return null;
        }
        int seq = TunnelChunk.sequence(datagram);
        int index = TunnelChunk.index(datagram);
        int chunkCount = TunnelChunk.count(datagram);
        if (!started || seq != sequence) {
            abandon();
            started = true;
            active = true;
            sequence = seq;
            count = chunkCount;
            received = 0;
        } else if (!active || chunks[index] != null) {
            duplicates++; // a chunk of the read just joined, or one already here
            datagram.release();
            return null;
        } else if (chunkCount != count) {
            malformed++;
            datagram.release();
            return null;
        }
        chunks[index] = datagram.skipBytes(TunnelChunk.HEADER_LENGTH);
        if (++received < count) {
            return null;
        }
        active = false;
        return join(alloc);
    }

    private ByteBuf join(ByteBufAllocator alloc) {
        if (count == 1) {
            ByteBuf only = chunks[0];
            chunks[0] = null;
            return only;
        }
        int length = 0;
        for (int i = 0; i < count; i++) {
            length += chunks[i].readableBytes();
        }
        ByteBuf joined = alloc.directBuffer(length);
        for (int i = 0; i < count; i++) {
            joined.writeBytes(chunks[i]);
            chunks[i].release();
            chunks[i] = null;
        }
        return joined;
    }

    private void abandon() {
        if (active) {
            incomplete++;
            active = false;
        }
        for (int i = 0; i < count; i++) { // only the read's own indexes are ever filled
            if (chunks[i] != null) {
                chunks[i].release();
                chunks[i] = null;
            }
        }
    }

    /** Releases an unfinished read (when the tunnel closes). */
    void release() {
        abandon();
    }

    /** Datagrams that were no chunk, or whose count disagreed with their read's. */
    long malformed() {
        return malformed;
    }

    /** Chunks that came twice. */
    long duplicates() {
        return duplicates;
    }

    /** Reads abandoned with chunks missing. */
    long incomplete() {
        return incomplete;
    }
}
