package org.tuntap.transport.spi;

import io.netty.buffer.ByteBuf;
import io.netty.channel.IoEventLoop;
import io.netty.channel.IoHandle;
import io.netty.channel.IoRegistration;

/**
 * A submission ring (io_uring) as a channel's way to the kernel: the loop waits for the fd to be
 * readable and writes the channel's packets in batches, so a batch of writes costs one system
 * call instead of one each. Reads stay the layer's own {@link TunIoSystem#read} calls, made when
 * the ring says the fd is readable (a read ring would need the kernel's provided buffers).
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

    /** Whether channels can run on {@code loop} through this ring. */
    boolean isCompatible(IoEventLoop loop);

    /**
     * A port for {@code fd}: the handle to register with a compatible loop.
     *
     * @param slotSize the largest packet a write slot holds (copies of larger ones are not made)
     * @param slots    how many writes may be in flight at once
     * @param events   where the port reports, on the loop
     */
    Port port(int fd, int slotSize, int slots, Events events);

    /** One fd on the ring. Every method runs on the loop the port is registered with. */
    interface Port extends IoHandle {

        /** Starts the port on the registration the loop gave for it. */
        void start(IoRegistration registration);

        /**
         * Asks for (or stops asking for) one {@link Events#readable} when the fd has a packet to
         * read. One-shot: after it came, ask again for the next.
         */
        void pollReadable(boolean interested);

        /** Copies {@code packet}'s readable bytes into a write slot and queues their write. */
        WriteResult write(ByteBuf packet);

        /** Writes queued whose {@link Events#written} has not come yet. */
        int writesInFlight();

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

        /**
         * A queued write completed: the bytes written, or a negated errno. One call per
         * {@link WriteResult#QUEUED}, in the order they were queued.
         */
        void written(int result);

        /** The loop is shutting down and closes its handles: close the channel. */
        void closeRequested();
    }
}
