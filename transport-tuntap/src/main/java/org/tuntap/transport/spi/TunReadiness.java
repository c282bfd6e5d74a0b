package org.tuntap.transport.spi;

import io.netty.channel.IoEvent;
import io.netty.channel.IoEventLoop;
import io.netty.channel.IoHandle;
import io.netty.channel.IoOps;

/**
 * How an fd layer's readiness reaches a channel, in Netty 4.2's {@code IoHandler} terms.
 *
 * <p>The channel's unsafe is an {@link IoHandle}, as in Netty's own transports. Each fd layer
 * has an {@code IoHandler} that understands its fds (the native one: Netty's
 * {@code EpollIoHandler}; the in-memory one: the test kit's), and that handler only accepts
 * handles of its own type. So the channel registers {@link #handle(int, IoHandle) a handle of
 * the layer's type} that forwards to the unsafe, asks for events with {@link #ops}, and decodes
 * the events it gets with {@link #isReadable}/{@link #isWritable}.
 */
public interface TunReadiness {

    /** Whether channels of this layer can be registered with {@code loop}. */
    boolean isCompatible(IoEventLoop loop);

    /**
     * A handle for {@code fd} that the layer's {@code IoHandler} accepts, forwarding
     * {@link IoHandle#handle}, {@link IoHandle#registered()}, {@link IoHandle#unregistered()} and
     * {@link IoHandle#close()} to {@code target}.
     */
    IoHandle handle(int fd, IoHandle target);

    /** The interest to submit: read readiness, write readiness, both or neither. */
    IoOps ops(boolean read, boolean write);

    /**
     * Whether an event says the fd may be read. Error and hang-up events count as readable, so
     * the next read reports the error instead of the loop spinning on it.
     */
    boolean isReadable(IoEvent event);

    /** Whether an event says the fd may be written. */
    boolean isWritable(IoEvent event);
}
