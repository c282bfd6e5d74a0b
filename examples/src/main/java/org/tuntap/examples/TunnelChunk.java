package org.tuntap.examples;

import io.netty.buffer.ByteBuf;

/**
 * The 8-byte header in front of every datagram the tunnel sends with {@code --offload}: a read
 * from the device (virtio-net header and packet, up to 64 KiB) is cut into chunks that each fit
 * one datagram on the link, and the peer joins them again before writing them to its device.
 *
 * <pre>
 *  0      2       3       4                8
 *  | magic | index | count | sequence       | chunk bytes...
 * </pre>
 *
 * All fields big-endian. {@code magic} is {@link #MAGIC}; {@code index} counts from 0 to
 * {@code count - 1}; {@code sequence} numbers the reads the sender cut, so the chunks of one read
 * are told from those of the next.
 */
final class TunnelChunk {
    static final int HEADER_LENGTH = 8;
    /** "VT": a datagram from a tunnel without {@code --offload} (an IP packet) never starts with it. */
    static final int MAGIC = 0x5654;
    /** The index and count are one byte each. */
    static final int MAX_CHUNKS = 255;

    private static final int INDEX = 2;
    private static final int COUNT = 3;
    private static final int SEQUENCE = 4;

    private TunnelChunk() {
    }

    static void write(ByteBuf out, int index, int count, int sequence) {
        out.writeShort(MAGIC).writeByte(index).writeByte(count).writeInt(sequence);
    }

    /** Whether the readable bytes start with a well-formed header: magic, {@code index < count}. */
    static boolean isValid(ByteBuf datagram) {
        int i = datagram.readerIndex();
        return datagram.readableBytes() > HEADER_LENGTH
                && datagram.getUnsignedShort(i) == MAGIC
                && index(datagram) < count(datagram);
    }

    static int index(ByteBuf datagram) {
        return datagram.getUnsignedByte(datagram.readerIndex() + INDEX);
    }

    static int count(ByteBuf datagram) {
        return datagram.getUnsignedByte(datagram.readerIndex() + COUNT);
    }

    static int sequence(ByteBuf datagram) {
        return datagram.getInt(datagram.readerIndex() + SEQUENCE);
    }

    /** How many chunks of at most {@code chunkBytes} a read of {@code length} bytes takes. */
    static int chunksFor(int length, int chunkBytes) {
        return Math.max(1, (length + chunkBytes - 1) / chunkBytes);
    }
}
