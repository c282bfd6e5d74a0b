package org.tuntap.transport.linux;

import io.netty.buffer.ByteBuf;
import io.netty.channel.IoEvent;
import io.netty.channel.IoRegistration;
import io.netty.channel.uring.IoUringIoEvent;
import io.netty.channel.uring.IoUringIoHandle;
import io.netty.channel.uring.IoUringIoOps;
import org.tuntap.transport.spi.Errno;
import org.tuntap.transport.spi.ErrnoException;
import org.tuntap.transport.spi.TunRing;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;

/**
 * A TUN fd on Netty's io_uring loop. A one-shot {@code POLL_ADD} says when the fd is readable;
 * then a batch of {@code READ}s, one packet each into a slot of native memory, made without
 * waiting ({@code RWF_NOWAIT}: io_uring would otherwise park a read that finds the queue empty
 * until a packet comes, whatever the fd's {@code O_NONBLOCK}, and every parked read would be
 * woken by every packet). A read that finds the queue empty completes with EAGAIN, which ends
 * the batch. Each packet written is copied into a write slot and queued as a {@code WRITE}. The
 * loop hands everything queued to the kernel in the one {@code io_uring_enter} it makes per
 * turn, and the kernel runs a batch in order.
 *
 * <p>Slots, not the channel's buffers: the kernel reads and writes them after the call that
 * queued the operation has returned, when a heap buffer could have moved.
 *
 * <p>Completions are told apart by opcode; reads and writes carry their slot, a poll a tag that
 * changes with every poll armed, so the late completion of a cancelled poll is recognised.
 */
final class IoUringTunPort implements IoUringIoHandle, TunRing.Port {
    // From include/uapi/linux/io_uring.h, poll.h and fs.h (Netty keeps its copies package-private).
    private static final byte IORING_OP_POLL_ADD = 6;
    private static final byte IORING_OP_ASYNC_CANCEL = 14;
    private static final byte IORING_OP_READ = 22;
    private static final byte IORING_OP_WRITE = 23;
    private static final int POLLIN = 0x0001;
    private static final int RWF_NOWAIT = 0x0000_0008;
    private static final int ECANCELED = 125;
    /** What {@code IoRegistration.submit} returns for nothing submitted (an invalid registration). */
    private static final long NOT_SUBMITTED = 0;

    private final int fd;
    private final TunRing.Events events;
    private final Slots readSlots;
    private final Slots writeSlots;
    private final short[] freeWriteSlots;
    private int freeWrites;

    private IoRegistration registration;
    private long pollId = NOT_SUBMITTED;
    private short pollTag;
    /** Reads of the current batch not completed yet; 0 when no batch is out. */
    private int readsOut;
    /**
     * The size of the next batch: twice the packets the last one found if it drained the
     * queue, twice itself if it did not. Each read beyond the queue costs the kernel an EAGAIN.
     */
    private int batchSize = 4;
    private int batchPackets;
    private boolean batchDrained;
    private ErrnoException batchFailure;
    private boolean released;
    private Runnable whenIdle;

    IoUringTunPort(int fd, int slotSize, int writeSlotCount, TunRing.Events events) {
        if (writeSlotCount <= 0 || writeSlotCount > Short.MAX_VALUE) {
            throw new IllegalArgumentException("write slots: " + writeSlotCount);
        }
        this.fd = fd;
        this.events = events;
        this.readSlots = new Slots(TunRing.MAX_READ_BATCH, slotSize);
        this.writeSlots = new Slots(writeSlotCount, slotSize);
        this.freeWriteSlots = new short[writeSlotCount];
        for (int i = 0; i < writeSlotCount; i++) {
            freeWriteSlots[i] = (short) (writeSlotCount - 1 - i);
        }
        this.freeWrites = writeSlotCount;
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
    public void read(int count) {
        if (released || registration == null || readsOut > 0) {
            return;
        }
        int batch = Math.min(Math.min(Math.max(count, 1), readSlots.count), batchSize);
        for (short slot = 0; slot < batch; slot++) {
            long id = registration.submit(new IoUringIoOps(IORING_OP_READ, (byte) 0, (short) 0, fd,
                    0L, readSlots.address(slot), readSlots.size, RWF_NOWAIT, slot, (short) 0, (short) 0, 0, 0L));
            if (id == NOT_SUBMITTED) {
                break;
            }
            readsOut++;
        }
    }

    @Override
    public TunRing.WriteResult write(ByteBuf packet) {
        int length = packet.readableBytes();
        if (length > writeSlots.size) {
            return TunRing.WriteResult.TOO_LARGE;
        }
        if (freeWrites == 0 || released || registration == null) {
            return TunRing.WriteResult.FULL;
        }
        short slot = freeWriteSlots[--freeWrites];
        packet.getBytes(packet.readerIndex(), writeSlots.view(slot, length));
        long id = registration.submit(new IoUringIoOps(IORING_OP_WRITE, (byte) 0, (short) 0, fd,
                0L, writeSlots.address(slot), length, 0, slot, (short) 0, (short) 0, 0, 0L));
        if (id == NOT_SUBMITTED) {
            freeWriteSlots[freeWrites++] = slot;
            return TunRing.WriteResult.FULL;
        }
        return TunRing.WriteResult.QUEUED;
    }

    private int writesInFlight() {
        return freeWriteSlots.length - freeWrites;
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

    private void cancel(long userData) {
        registration.submit(new IoUringIoOps(IORING_OP_ASYNC_CANCEL, (byte) 0, (short) 0, -1,
                0L, userData, 0, 0, (short) 0, (short) 0, (short) 0, 0, 0L));
    }

    @Override
    public void handle(IoRegistration registration, IoEvent ioEvent) {
        IoUringIoEvent event = (IoUringIoEvent) ioEvent;
        switch (event.opcode()) {
            case IORING_OP_READ -> readCompleted(event.data(), event.res());
            case IORING_OP_WRITE -> {
                freeWriteSlots[freeWrites++] = event.data();
                if (released) {
                    return;
                }
                int res = event.res();
                if (res >= 0) {
                    events.written(res);
                } else {
                    events.writeFailed(NativeErrors.readWrite("write", -res));
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

    private void readCompleted(short slot, int res) {
        readsOut--;
        if (released) {
            return;
        }
        if (res > 0) {
            batchPackets++;
            events.packetRead(readSlots.view(slot, res));
        } else if (res == -Errno.EAGAIN) {
            batchDrained = true;
        } else if (batchFailure == null) {
            // 0 would be end of file, which a TUN fd never gives.
            batchFailure = res == 0 ? new ErrnoException("read", Errno.EIO, "end of file")
                    : NativeErrors.readWrite("read", -res);
        }
        if (readsOut == 0 && !released) {
            boolean drained = batchDrained;
            ErrnoException failure = batchFailure;
            batchSize = Math.max(2, Math.min(readSlots.count, 2 * (drained ? batchPackets : batchSize)));
            batchDrained = false;
            batchFailure = null;
            batchPackets = 0;
            events.readsComplete(drained, failure);
        }
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

    /** The loop is shutting down: it asks each handle to close. */
    @Override
    public void close() {
        events.closeRequested();
    }

    @Override
    public String toString() {
        return "IoUringTunPort(fd " + fd + ", " + readsOut + " reads and " + writesInFlight() + " writes in flight)";
    }

    /**
     * Equal slots of native memory, each with a buffer view made once. Garbage-collected rather
     * than freed: the kernel may use a slot until its operation's completion, and the loop keeps
     * the port (so the memory) reachable until the last completion of its registration is in.
     */
    private static final class Slots {
        final int count;
        final int size;
        private final MemorySegment memory;
        private final ByteBuffer[] views;

        Slots(int count, int size) {
            if (size <= 0) {
                throw new IllegalArgumentException("slot size " + size);
            }
            this.count = count;
            this.size = size;
            this.memory = Arena.ofAuto().allocate((long) size * count, 64);
            this.views = new ByteBuffer[count];
            for (int i = 0; i < count; i++) {
                views[i] = memory.asSlice((long) i * size, size).asByteBuffer();
            }
        }

        long address(short slot) {
            return memory.address() + (long) slot * size;
        }

        /** The slot's first {@code length} bytes, positioned at 0. */
        ByteBuffer view(short slot, int length) {
            ByteBuffer view = views[slot];
            view.clear().limit(length);
            return view;
        }
    }
}
