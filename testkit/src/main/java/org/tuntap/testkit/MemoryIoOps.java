package org.tuntap.testkit;

import io.netty.channel.IoEvent;
import io.netty.channel.IoOps;

/**
 * Interest in, and readiness of, an in-memory file: readable, writable, both or neither. The same
 * values serve as the ops a channel submits and the events {@link MemoryIoHandler} delivers, as
 * {@code EpollIoOps} do for epoll.
 */
public final class MemoryIoOps implements IoOps, IoEvent {
    /** Neither readable nor writable. */
    public static final MemoryIoOps NONE = new MemoryIoOps(false, false);
    /** Readable (a packet is queued for the channel). */
    public static final MemoryIoOps READ = new MemoryIoOps(true, false);
    /** Writable (the device takes another packet). */
    public static final MemoryIoOps WRITE = new MemoryIoOps(false, true);
    /** Readable and writable. */
    public static final MemoryIoOps READ_WRITE = new MemoryIoOps(true, true);

    private final boolean read;
    private final boolean write;

    private MemoryIoOps(boolean read, boolean write) {
        this.read = read;
        this.write = write;
    }

    /**
     * The constant for a combination.
     *
     * @param read readable, or read interest
     * @param write writable, or write interest
     * @return one of {@link #NONE}, {@link #READ}, {@link #WRITE}, {@link #READ_WRITE}
     */
    public static MemoryIoOps of(boolean read, boolean write) {
        return read ? (write ? READ_WRITE : READ) : (write ? WRITE : NONE);
    }

    /** Whether this includes reading. */
    public boolean isRead() {
        return read;
    }

    /** Whether this includes writing. */
    public boolean isWrite() {
        return write;
    }

    @Override
    public String toString() {
        return read ? (write ? "READ|WRITE" : "READ") : (write ? "WRITE" : "NONE");
    }
}
