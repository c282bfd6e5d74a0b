package org.tuntap.testkit;

import io.netty.channel.IoEvent;
import io.netty.channel.IoHandle;
import io.netty.channel.IoRegistration;

import java.util.Objects;

/**
 * The handle {@link MemoryIoHandler} accepts: an in-memory file to watch and the channel's
 * handle to tell. Made by {@link MemoryReadiness#handle(int, IoHandle)}.
 */
public final class MemoryIoHandle implements IoHandle {
    private final Pollable file;
    private final IoHandle target;

    MemoryIoHandle(Pollable file, IoHandle target) {
        this.file = Objects.requireNonNull(file, "file");
        this.target = Objects.requireNonNull(target, "target");
    }

    Pollable file() {
        return file;
    }

    @Override
    public void handle(IoRegistration registration, IoEvent event) {
        target.handle(registration, event);
    }

    @Override
    public void registered() {
        target.registered();
    }

    @Override
    public void unregistered() {
        target.unregistered();
    }

    @Override
    public void close() throws Exception {
        target.close();
    }
}
