package org.tuntap.codec.buffer;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.CompositeByteBuf;

/**
 * Puts a header in front of a packet without copying the packet.
 *
 * <p>The first encoder on the way down (UDP, or whichever gets a buffer it did not make) wraps
 * the payload in a composite whose first component is a fresh header buffer with
 * {@link #HEADROOM} spare bytes before the data. Every encoder below moves the reader index of
 * that same composite back into the spare bytes and writes its header there: one header buffer
 * and one composite per packet, whatever the number of layers.
 *
 * <p>Only composites made here are written in front of their reader index, and only while
 * nobody else holds a reference; any other buffer gets a new composite, so a buffer of the
 * application is never written to.
 */
public final class Headroom {

    /**
     * Spare bytes reserved in front of a header: IPv4 with the largest options (60) plus an
     * Ethernet header with an 802.1Q tag (18) plus the PI header (4), rounded up.
     */
    public static final int HEADROOM = 96;

    private Headroom() {
    }

    /**
     * Returns a buffer whose first {@code headerLength} readable bytes are for the caller to
     * fill with a header, followed by the readable bytes of {@code packet}.
     *
     * <p>Does not take over the caller's reference to {@code packet} (it retains what it
     * keeps), so it fits encoders, whose input is released after {@code encode}. The returned
     * buffer holds one reference for the caller. The packet's bytes are never copied.
     */
    public static ByteBuf prepend(ByteBufAllocator alloc, ByteBuf packet, int headerLength) {
        if (packet instanceof HeadroomByteBuf own && own.refCnt() == 1 && own.readerIndex() >= headerLength && own.isIntact()) {
            own.readerIndex(own.readerIndex() - headerLength);
            return own.retain();
        }
        int capacity = HEADROOM + headerLength;
        ByteBuf header = alloc.buffer(capacity, capacity);
        header.writerIndex(capacity);
        HeadroomByteBuf composite = new HeadroomByteBuf(alloc, packet.isDirect(), header);
        composite.addComponent(true, header);
        if (packet.isReadable()) {
            composite.addComponent(true, packet.retain()); // one by one: the varargs form allocates an array
        }
        composite.components = composite.numComponents();
        composite.readerIndex(HEADROOM);
        return composite;
    }

    /**
     * Where to write the header bytes of a buffer {@link #prepend} returned: the header buffer
     * itself when it is one of ours (its indices are the composite's, and writing there skips
     * the composite's per-access component lookup), else the buffer. Call right after
     * {@code prepend}.
     */
    public static ByteBuf headerBuffer(ByteBuf prepended) {
        return prepended instanceof HeadroomByteBuf own && own.isIntact() ? own.header : prepended;
    }

    /** How many header bytes could still be prepended to this buffer in place. */
    public static int available(ByteBuf packet) {
        return packet instanceof HeadroomByteBuf ? packet.readerIndex() : 0;
    }

    /** Marks composites made by {@link #prepend}, whose bytes before the reader index are spare. */
    private static final class HeadroomByteBuf extends CompositeByteBuf {
        /** Component 0, added with reader index 0, so its indices equal the composite's. */
        final ByteBuf header;
        /** Components at creation; fewer means someone consolidated or discarded, and the spare room is gone. */
        int components;

        HeadroomByteBuf(ByteBufAllocator alloc, boolean direct, ByteBuf header) {
            super(alloc, direct, 4);
            this.header = header;
        }

        boolean isIntact() {
            return numComponents() == components;
        }
    }
}
