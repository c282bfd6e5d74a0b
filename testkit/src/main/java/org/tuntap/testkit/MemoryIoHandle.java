package org.tuntap.testkit;

import io.netty.channel.IoHandle;
import org.tuntap.transport.spi.ForwardingIoHandle;

import java.util.Objects;

/**
 * The handle {@link MemoryIoHandler} accepts: an in-memory file to watch and the channel's
 * handle to tell. Made by {@link MemoryReadiness#handle(int, IoHandle)}.
 */
public final class MemoryIoHandle extends ForwardingIoHandle {
    private final Pollable file;

    MemoryIoHandle(Pollable file, IoHandle target) {
        super(target);
        this.file = Objects.requireNonNull(file, "file");
    }

    Pollable file() {
        return file;
    }
}
