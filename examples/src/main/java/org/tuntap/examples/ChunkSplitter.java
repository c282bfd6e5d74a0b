package org.tuntap.examples;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.socket.DatagramPacket;
import io.netty.channel.unix.SegmentedDatagramPacket;

import java.net.InetSocketAddress;
import java.util.function.Consumer;

/**
 * The sending half of the offload tunnel: cuts each read from the device (virtio-net header and
 * packet, up to 64 KiB) into chunks behind a {@link TunnelChunk} header, each small enough for one
 * datagram on the link, so the link never fragments. With UDP GSO the chunks of a read leave as
 * {@link SegmentedDatagramPacket}s, one {@code sendmsg} for up to {@link #MAX_GSO_SEGMENTS} of them,
 * which the kernel cuts into datagrams; without it, as one datagram each.
 */
final class ChunkSplitter {
    /** The kernel's {@code UDP_MAX_SEGMENTS} before Linux 6.10 (128 since): segments per GSO send. */
    static final int MAX_GSO_SEGMENTS = 64;
    /** One UDP send, all segments together, is at most this many bytes over IPv4. */
    static final int MAX_UDP_PAYLOAD = 65507;

    private final int chunkBytes;
    private final int segmentsPerSend;
    private final boolean gso;
    private int sequence;

    /**
     * @param datagramBytes the largest UDP payload that crosses the link unfragmented
     * @param gso           whether to send a read's chunks as UDP GSO segments
     */
    ChunkSplitter(int datagramBytes, boolean gso) {
        if (datagramBytes <= TunnelChunk.HEADER_LENGTH || datagramBytes > MAX_UDP_PAYLOAD) {
            throw new IllegalArgumentException("datagram size " + datagramBytes);
        }
        this.chunkBytes = datagramBytes - TunnelChunk.HEADER_LENGTH;
        this.segmentsPerSend = gso ? Math.min(MAX_GSO_SEGMENTS, MAX_UDP_PAYLOAD / datagramBytes) : 1;
        this.gso = gso;
    }

    /** The largest read that fits in {@link TunnelChunk#MAX_CHUNKS} chunks. */
    int maxReadBytes() {
        return chunkBytes * TunnelChunk.MAX_CHUNKS;
    }

    /**
     * Cuts {@code read} into datagrams to {@code peer}, handing each to {@code out}, which owns it
     * from then on; {@code read} is released. Returns the number of chunks, or 0 when the read is
     * too long to cut ({@link #maxReadBytes()}; nothing is sent).
     */
    int split(ByteBufAllocator alloc, ByteBuf read, InetSocketAddress peer, Consumer<DatagramPacket> out) {
        try {
            int length = read.readableBytes();
            if (length > maxReadBytes()) {
                return 0;
            }
            int count = TunnelChunk.chunksFor(length, chunkBytes);
            int seq = sequence++;
            for (int first = 0; first < count; first += segmentsPerSend) {
                int segments = Math.min(segmentsPerSend, count - first);
                int bytes = Math.min(segments * chunkBytes, read.readableBytes());
                ByteBuf datagrams = alloc.directBuffer(segments * TunnelChunk.HEADER_LENGTH + bytes);
                for (int i = first; i < first + segments; i++) {
                    TunnelChunk.write(datagrams, i, count, seq);
                    datagrams.writeBytes(read, Math.min(chunkBytes, read.readableBytes()));
                }
                out.accept(segments > 1
                        ? new SegmentedDatagramPacket(datagrams, TunnelChunk.HEADER_LENGTH + chunkBytes, peer)
                        : new DatagramPacket(datagrams, peer));
            }
            return count;
        } finally {
            read.release();
        }
    }
}
