package org.tuntap.transport.spi;

import io.netty.channel.IoEvent;
import io.netty.channel.IoHandle;
import io.netty.channel.IoRegistration;

import java.util.Objects;

/**
 * An {@link IoHandle} that passes everything to another. Fd layers extend it for
 * {@link TunReadiness#handle}: the subclass has the type the layer's {@code IoHandler} accepts
 * (an {@code EpollIoHandle}, say), while the channel's unsafe stays the handle that does the work.
 */
public abstract class ForwardingIoHandle implements IoHandle {
    private final IoHandle target;

    /** @param target the handle every call goes to (the channel's unsafe) */
    protected ForwardingIoHandle(IoHandle target) {
        this.target = Objects.requireNonNull(target, "target");
    }

    /** The handle everything goes to. */
    protected final IoHandle target() {
        return target;
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
