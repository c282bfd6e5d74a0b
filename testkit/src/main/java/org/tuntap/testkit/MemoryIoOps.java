package org.tuntap.testkit;

import io.netty.channel.IoEvent;
import io.netty.channel.IoOps;

/**
 * Interest in, and readiness of, an in-memory file: readable, writable, both or neither. The same
 * values serve as the ops a channel submits and the events {@link MemoryIoHandler} delivers, as
 * {@code EpollIoOps} do for epoll.
 */
public final class MemoryIoOps implements IoOps, IoEvent {
    public static final MemoryIoOps NONE = new MemoryIoOps(false, false);
    public static final MemoryIoOps READ = new MemoryIoOps(true, false);
    public static final MemoryIoOps WRITE = new MemoryIoOps(false, true);
    public static final MemoryIoOps READ_WRITE = new MemoryIoOps(true, true);

    private final boolean read;
    private final boolean write;

    private MemoryIoOps(boolean read, boolean write) {
        this.read = read;
        this.write = write;
    }

    public static MemoryIoOps of(boolean read, boolean write) {
        return read ? (write ? READ_WRITE : READ) : (write ? WRITE : NONE);
    }

    public boolean isRead() {
        return read;
    }

    public boolean isWrite() {
        return write;
    }

    @Override
    public String toString() {
        return read ? (write ? "READ|WRITE" : "READ") : (write ? "WRITE" : "NONE");
    }
}
