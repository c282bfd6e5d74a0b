package org.tuntap.transport.spi;

import io.netty.buffer.ByteBuf;
import io.netty.channel.IoEventLoop;
import io.netty.channel.IoHandle;
import io.netty.channel.IoRegistration;

import java.nio.ByteBuffer;

/**
 * A submission ring (io_uring) as a channel's way to the kernel: the loop waits for the fd to be
 * readable, reads a batch of packets and writes the channel's packets, all queued in the ring,
 * so a batch costs the one system call the loop makes per turn instead of one per packet.
 *
 * <p>A channel uses this instead of {@link TunReadiness} when it is registered with an event
 * loop of the ring's kind (Netty's {@code IoUringIoHandler}); an fd layer without a ring returns
 * null from {@link TunIoSystem#ring()}.
 */
public interface TunRing {

    /** What {@link Port#write} did with a packet. */
    enum WriteResult {
        /** Copied into the ring; {@link Events#written} reports it, in the order written. */
        QUEUED,
        /** Every write slot is taken: write it again after the next {@link Events#written}. */
        FULL,
        /** Larger than a write slot: write it yourself once no write is in flight (order). */
        TOO_LARGE
    }

    /** The most reads {@link Port#read} queues at once. */
    int MAX_READ_BATCH = 32;

    /** Whether channels can run on {@code loop} through this ring. */
    boolean isCompatible(IoEventLoop loop);

    /**
     * A port for {@code fd}: the handle to register with a compatible loop.
     *
     * @param slotSize   the largest packet a slot holds: what a read returns at most, and the
     *                   largest packet written through the ring (larger ones are not copied)
     * @param writeSlots how many writes may be in flight at once
     * @param events     where the port reports, on the loop
     */
    Port port(int fd, int slotSize, int writeSlots, Events events);

    /** One fd on the ring. Every method runs on the loop the port is registered with. */
    interface Port extends IoHandle {

        /** Starts the port on the registration the loop gave for it. */
        void start(IoRegistration registration);

        /**
         * Asks for (or stops asking for) one {@link Events#readable} when the fd has a packet to
         * read. One-shot: after it came, ask again for the next.
         */
        void pollReadable(boolean interested);

        /**
         * Queues a batch of at most {@code count} reads (and at most {@link #MAX_READ_BATCH}; the
         * port may choose fewer, by what the last batches found), one packet each, made without
         * waiting: each packet comes to {@link Events#packetRead}, in order, then
         * {@link Events#readsComplete} once for the batch. Does nothing while a batch is out.
         */
        void read(int count);

        /** Copies {@code packet}'s readable bytes into a write slot and queues their write. */
        WriteResult write(ByteBuf packet);

        /**
         * Cancels what the port has in the kernel and reports nothing more; cancel the
         * registration right after. {@code whenIdle} (or null) runs on the loop once the last
         * operation on the fd is complete: until then the kernel may still take queued writes
         * for the fd's number, so that is when the fd may be closed.
         */
        void release(Runnable whenIdle);
    }

    /** What a port reports. */
    interface Events {

        /** The fd has a packet to read (or an error to read: the read reports it). */
        void readable();

        /** One read of the batch returned a packet: {@code packet}'s bytes, valid during the call. */
        void packetRead(ByteBuffer packet);

        /**
         * The batch's reads are all in. {@code drained}: one found no packet (the fd's queue was
         * empty), so wait for {@link #readable} before the next batch. {@code failure}: a read
         * failed otherwise (the device gone, say), or null.
         */
        void readsComplete(boolean drained, ErrnoException failure);

        /**
         * A queued write completed, {@code bytes} written. One call of this or
         * {@link #writeFailed} per {@link WriteResult#QUEUED}, in the order they were queued.
         */
        void written(int bytes);

        /** A queued write failed; see {@link #written}. */
        void writeFailed(ErrnoException cause);

        /** The loop is shutting down and closes its handles: close the channel. */
        void closeRequested();
    }
}
