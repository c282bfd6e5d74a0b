package org.tuntap.testkit;

import io.netty.channel.IoEvent;
import io.netty.channel.IoEventLoop;
import io.netty.channel.IoHandle;
import io.netty.channel.IoOps;
import org.tuntap.transport.spi.TunReadiness;

import java.util.Objects;
import java.util.function.IntFunction;

/**
 * Readiness of in-memory files for {@link org.tuntap.transport.TunChannel}: channels on a
 * {@link MemoryIoSystem} register with a loop driven by {@link MemoryIoHandler}.
 */
public final class MemoryReadiness implements TunReadiness {
    private final IntFunction<Pollable> filesByFd;

    /** @param filesByFd the open file behind a descriptor (throws for an unknown one) */
    public MemoryReadiness(IntFunction<Pollable> filesByFd) {
        this.filesByFd = Objects.requireNonNull(filesByFd, "filesByFd");
    }

    @Override
    public boolean isCompatible(IoEventLoop loop) {
        return loop.isCompatible(MemoryIoHandle.class);
    }

    @Override
    public IoHandle handle(int fd, IoHandle target) {
        return new MemoryIoHandle(filesByFd.apply(fd), target);
    }

    @Override
    public IoOps ops(boolean read, boolean write) {
        return MemoryIoOps.of(read, write);
    }

    @Override
    public boolean isReadable(IoEvent event) {
        return ((MemoryIoOps) event).isRead();
    }

    @Override
    public boolean isWritable(IoEvent event) {
        return ((MemoryIoOps) event).isWrite();
    }
}
