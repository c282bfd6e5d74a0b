package org.tuntap.transport.linux;

import io.netty.buffer.ByteBuf;
import io.netty.channel.IoEvent;
import io.netty.channel.IoRegistration;
import io.netty.channel.uring.IoUringIoEvent;
import io.netty.channel.uring.IoUringIoHandle;
import io.netty.channel.uring.IoUringIoOps;
import org.tuntap.transport.spi.TunRing;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;

/**
 * A TUN fd on Netty's io_uring loop: a one-shot {@code POLL_ADD} says when the fd is readable,
 * and each packet written is copied into a slot of native memory and queued as a
 * {@code WRITE}, so the loop hands a whole batch of writes to the kernel in the one
 * {@code io_uring_enter} it makes per turn anyway. The copy is why: the kernel reads the slot
 * after the channel has let go of the packet, and a heap buffer could move in the meantime.
 *
 * <p>Completions are told apart by opcode; a write's carries its slot, a poll's a tag that
 * changes with every poll armed, so the late completion of a cancelled poll is recognised and
 * ignored.
 */
final class IoUringTunPort implements IoUringIoHandle, TunRing.Port {
    // From include/uapi/linux/io_uring.h and poll.h (Netty keeps its copies package-private).
    private static final byte IORING_OP_POLL_ADD = 6;
    private static final byte IORING_OP_ASYNC_CANCEL = 14;
    private static final byte IORING_OP_WRITE = 23;
    private static final int POLLIN = 0x0001;
    private static final int ECANCELED = 125;
    /** What {@code IoRegistration.submit} returns for nothing submitted (an invalid registration). */
    private static final long NOT_SUBMITTED = 0;

    private final int fd;
    private final int slotSize;
    private final TunRing.Events events;
    /**
     * The write slots. Garbage-collected rather than freed: the kernel may read a slot until
     * the write's completion, and the loop keeps this port (so the memory) reachable until the
     * last completion of its registration is in.
     */
    private final MemorySegment slots;
    /** Each slot as a buffer for {@code ByteBuf.getBytes}, made once. */
    private final ByteBuffer[] slotViews;
    private final short[] freeSlots;
    private int freeCount;

    private IoRegistration registration;
    private long pollId = NOT_SUBMITTED;
    private short pollTag;
    private boolean released;
    private Runnable whenIdle;

    IoUringTunPort(int fd, int slotSize, int slotCount, TunRing.Events events) {
        if (slotSize <= 0 || slotCount <= 0 || slotCount > Short.MAX_VALUE) {
            throw new IllegalArgumentException("slots: " + slotCount + " of " + slotSize + " bytes");
        }
        this.fd = fd;
        this.slotSize = slotSize;
        this.events = events;
        this.slots = Arena.ofAuto().allocate((long) slotSize * slotCount, 64);
        this.slotViews = new ByteBuffer[slotCount];
        this.freeSlots = new short[slotCount];
        for (int i = 0; i < slotCount; i++) {
            slotViews[i] = slots.asSlice((long) i * slotSize, slotSize).asByteBuffer();
            freeSlots[i] = (short) (slotCount - 1 - i);
        }
        this.freeCount = slotCount;
    }

    @Override
    public void start(IoRegistration registration) {
        this.registration = registration;
    }

    @Override
    public void pollReadable(boolean interested) {
        if (released || registration == null) {
            return;
        }
        if (interested && pollId == NOT_SUBMITTED) {
            pollTag++;
            // len 0: one-shot (not IORING_POLL_ADD_MULTI, which would complete once per packet
            // arriving); the poll mask travels in the rw_flags word.
            pollId = registration.submit(new IoUringIoOps(IORING_OP_POLL_ADD, (byte) 0, (short) 0, fd,
                    0L, 0L, 0, POLLIN, pollTag, (short) 0, (short) 0, 0, 0L));
        } else if (!interested && pollId != NOT_SUBMITTED) {
            cancel(pollId);
            pollId = NOT_SUBMITTED;
        }
    }

    @Override
    public TunRing.WriteResult write(ByteBuf packet) {
        int length = packet.readableBytes();
        if (length > slotSize) {
            return TunRing.WriteResult.TOO_LARGE;
        }
        if (freeCount == 0 || released || registration == null) {
            return TunRing.WriteResult.FULL;
        }
        short slot = freeSlots[--freeCount];
        ByteBuffer view = slotViews[slot];
        view.clear();
        packet.getBytes(packet.readerIndex(), view.limit(length));
        long address = slots.address() + (long) slot * slotSize;
        long id = registration.submit(new IoUringIoOps(IORING_OP_WRITE, (byte) 0, (short) 0, fd,
                0L, address, length, 0, slot, (short) 0, (short) 0, 0, 0L));
        if (id == NOT_SUBMITTED) {
            freeSlots[freeCount++] = slot;
            return TunRing.WriteResult.FULL;
        }
        return TunRing.WriteResult.QUEUED;
    }

    @Override
    public int writesInFlight() {
        return freeSlots.length - freeCount;
    }

    @Override
    public void release(Runnable whenIdle) {
        if (released) {
            return;
        }
        if (pollId != NOT_SUBMITTED && registration != null) {
            cancel(pollId);
            pollId = NOT_SUBMITTED;
        }
        released = true;
        this.whenIdle = whenIdle;
    }

    /** The registration's last completion is in (after its cancel): nothing of ours is in the kernel. */
    @Override
    public void unregistered() {
        Runnable idle = whenIdle;
        whenIdle = null;
        if (idle != null) {
            idle.run();
        }
    }

    private void cancel(long userData) {
        registration.submit(new IoUringIoOps(IORING_OP_ASYNC_CANCEL, (byte) 0, (short) 0, -1,
                0L, userData, 0, 0, (short) 0, (short) 0, (short) 0, 0, 0L));
    }

    @Override
    public void handle(IoRegistration registration, IoEvent ioEvent) {
        IoUringIoEvent event = (IoUringIoEvent) ioEvent;
        switch (event.opcode()) {
            case IORING_OP_WRITE -> {
                freeSlots[freeCount++] = event.data();
                if (!released) {
                    events.written(event.res());
                }
            }
            case IORING_OP_POLL_ADD -> {
                if (event.data() == pollTag && pollId != NOT_SUBMITTED) {
                    pollId = NOT_SUBMITTED;
                    // An error (say, the device deleted) counts as readable: the read reports it.
                    if (!released && event.res() != -ECANCELED) {
                        events.readable();
                    }
                }
            }
            default -> {
                // An ASYNC_CANCEL's own completion: the cancelled operation completes separately.
            }
        }
    }

    /** The loop is shutting down: it asks each handle to close. */
    @Override
    public void close() {
        events.closeRequested();
    }

    @Override
    public String toString() {
        return "IoUringTunPort(fd " + fd + ", " + writesInFlight() + " writes in flight)";
    }
}
