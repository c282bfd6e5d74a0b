package org.tuntap.testkit;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.CompositeByteBuf;
import io.netty.buffer.UnpooledByteBufAllocator;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * An allocator that remembers every buffer it hands out, so a test can ask, deterministically and
 * without waiting for garbage collection, which of them were never released.
 *
 * <p>{@link TunnelHarness} gives one to its channel: every packet the channel reads and every
 * header a codec allocates comes from it, and {@link TunnelHarness#finish()} fails if any is still
 * referenced. Not thread-safe beyond a single event loop plus the test thread taking turns.
 */
public final class TrackingAllocator implements ByteBufAllocator {
    private final ByteBufAllocator delegate;
    private final List<ByteBuf> allocated = new ArrayList<>();

    /** Tracks heap buffers of an unpooled allocator. */
    public TrackingAllocator() {
        // Unpooled and not direct-preferring: what a test reads back is plain memory, and a leak
        // report is about our own accounting, not a pool's.
        this(new UnpooledByteBufAllocator(true));
    }

    /**
     * Tracks the buffers of another allocator.
     *
     * @param delegate where the buffers come from
     */
    public TrackingAllocator(ByteBufAllocator delegate) {
        this.delegate = Objects.requireNonNull(delegate, "delegate");
    }

    private synchronized <B extends ByteBuf> B track(B buf) {
        allocated.add(buf);
        return buf;
    }

    /** The buffers handed out so far that are still referenced, oldest first. */
    public synchronized List<ByteBuf> unreleased() {
        List<ByteBuf> live = new ArrayList<>();
        for (ByteBuf buf : allocated) {
            if (buf.refCnt() > 0) {
                live.add(buf);
            }
        }
        return live;
    }

    /** How many buffers were handed out. */
    public synchronized int allocations() {
        return allocated.size();
    }

    /** Forgets released buffers so a long test does not keep them reachable. */
    public synchronized void forgetReleased() {
        allocated.removeIf(buf -> buf.refCnt() == 0);
    }

    @Override public ByteBuf buffer() { return track(delegate.buffer()); }
    @Override public ByteBuf buffer(int initialCapacity) { return track(delegate.buffer(initialCapacity)); }
    @Override public ByteBuf buffer(int initialCapacity, int maxCapacity) { return track(delegate.buffer(initialCapacity, maxCapacity)); }
    @Override public ByteBuf ioBuffer() { return track(delegate.ioBuffer()); }
    @Override public ByteBuf ioBuffer(int initialCapacity) { return track(delegate.ioBuffer(initialCapacity)); }
    @Override public ByteBuf ioBuffer(int initialCapacity, int maxCapacity) { return track(delegate.ioBuffer(initialCapacity, maxCapacity)); }
    @Override public ByteBuf heapBuffer() { return track(delegate.heapBuffer()); }
    @Override public ByteBuf heapBuffer(int initialCapacity) { return track(delegate.heapBuffer(initialCapacity)); }
    @Override public ByteBuf heapBuffer(int initialCapacity, int maxCapacity) { return track(delegate.heapBuffer(initialCapacity, maxCapacity)); }
    @Override public ByteBuf directBuffer() { return track(delegate.directBuffer()); }
    @Override public ByteBuf directBuffer(int initialCapacity) { return track(delegate.directBuffer(initialCapacity)); }
    @Override public ByteBuf directBuffer(int initialCapacity, int maxCapacity) { return track(delegate.directBuffer(initialCapacity, maxCapacity)); }
    @Override public CompositeByteBuf compositeBuffer() { return track(delegate.compositeBuffer()); }
    @Override public CompositeByteBuf compositeBuffer(int maxNumComponents) { return track(delegate.compositeBuffer(maxNumComponents)); }
    @Override public CompositeByteBuf compositeHeapBuffer() { return track(delegate.compositeHeapBuffer()); }
    @Override public CompositeByteBuf compositeHeapBuffer(int maxNumComponents) { return track(delegate.compositeHeapBuffer(maxNumComponents)); }
    @Override public CompositeByteBuf compositeDirectBuffer() { return track(delegate.compositeDirectBuffer()); }
    @Override public CompositeByteBuf compositeDirectBuffer(int maxNumComponents) { return track(delegate.compositeDirectBuffer(maxNumComponents)); }
    @Override public boolean isDirectBufferPooled() { return delegate.isDirectBufferPooled(); }
    @Override public int calculateNewCapacity(int minNewCapacity, int maxCapacity) { return delegate.calculateNewCapacity(minNewCapacity, maxCapacity); }
}
