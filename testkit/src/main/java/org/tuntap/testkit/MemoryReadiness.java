package org.tuntap.testkit;

import io.netty.channel.IoEvent;
import io.netty.channel.IoEventLoop;
import io.netty.channel.IoHandle;
import io.netty.channel.IoOps;
import org.tuntap.transport.spi.TunReadiness;

import java.util.Objects;
import java.util.function.IntFunction;

/**
 * PLACEHOLDER so the {@code memory} branch compiles: the lead engineer writes the real class (the
 * in-memory {@link TunReadiness}, backed by {@code MemoryIoHandler}) and replaces this file when
 * merging. Only the constructor is final API.
 */
public final class MemoryReadiness implements TunReadiness {

    private final IntFunction<Pollable> filesByFd;

    /** @param filesByFd the open in-memory file behind an fd, or null when the fd is not open */
    public MemoryReadiness(IntFunction<Pollable> filesByFd) {
        this.filesByFd = Objects.requireNonNull(filesByFd, "filesByFd");
    }

    @Override
    public boolean isCompatible(IoEventLoop loop) {
        throw new UnsupportedOperationException("placeholder: replaced by the lead's MemoryReadiness");
    }

    @Override
    public IoHandle handle(int fd, IoHandle target) {
        throw new UnsupportedOperationException("placeholder: replaced by the lead's MemoryReadiness");
    }

    @Override
    public IoOps ops(boolean read, boolean write) {
        throw new UnsupportedOperationException("placeholder: replaced by the lead's MemoryReadiness");
    }

    @Override
    public boolean isReadable(IoEvent event) {
        throw new UnsupportedOperationException("placeholder: replaced by the lead's MemoryReadiness");
    }

    @Override
    public boolean isWritable(IoEvent event) {
        throw new UnsupportedOperationException("placeholder: replaced by the lead's MemoryReadiness");
    }
}
