package org.tuntap.transport.spi;

import io.netty.buffer.ByteBuf;

/**
 * The fd layer: the handful of OS operations a TUN port needs, in Java terms.
 *
 * <p>{@link io.netty.channel.Channel TunChannel} does all its I/O through one of these, so the
 * same channel runs on the in-memory tunnel of the test kit and on {@code /dev/net/tun}. Every
 * failure is an {@link ErrnoException} with a Linux errno; {@code EAGAIN} and {@code EINTR} are
 * flow control, and implementations should throw the stackless
 * {@link ErrnoException#wouldBlock}/{@link ErrnoException#interrupted} for them.
 *
 * <p>Methods other than {@link #readiness()} are system calls: they never block when the fd was
 * opened with {@link OpenFlags#O_NONBLOCK}, and they are called from the channel's event loop.
 */
public interface TunIoSystem {

    /**
     * Opens a file, like {@code open(2)}.
     *
     * @param flags {@link OpenFlags} bits
     * @return the new file descriptor
     */
    int open(String path, int flags) throws ErrnoException;

    /**
     * An ioctl whose argument is a pointer to a buffer, like {@code TUNSETIFF}: the call reads
     * {@code argument} and may write results back into it (the kernel's name for a {@code tun%d}
     * template, say).
     */
    void ioctl(int fd, long request, byte[] argument) throws ErrnoException;

    /**
     * An ioctl whose argument is the value itself, not a pointer ({@code TUNSETPERSIST},
     * {@code TUNSETOWNER}, {@code TUNSETGROUP}, {@code TUNSETOFFLOAD}).
     *
     * @return the call's non-negative result
     */
    int ioctl(int fd, long request, long value) throws ErrnoException;

    /**
     * Reads one packet, like {@code read(2)} on a TUN fd: at most {@code limit} bytes of it go to
     * {@code destination} at its writer index (which advances); the rest of a longer packet is
     * lost. {@code destination} has at least {@code limit} writable bytes.
     *
     * @return the bytes read, at least 1
     * @throws ErrnoException EAGAIN when no packet is waiting on a non-blocking fd
     */
    int read(int fd, ByteBuf destination, int limit) throws ErrnoException;

    /**
     * Writes the readable bytes of {@code source} as one packet, like {@code write(2)}. Indexes
     * are left as they are.
     *
     * @return the bytes written: all of them, since a TUN fd takes whole packets
     * @throws ErrnoException EAGAIN when the device cannot take the packet now
     */
    int write(int fd, ByteBuf source) throws ErrnoException;

    /**
     * Adds {@link OpenFlags#O_NONBLOCK} and/or {@link OpenFlags#O_CLOEXEC} to an fd opened
     * elsewhere, like {@code fcntl(F_SETFL, ... | O_NONBLOCK)} and {@code fcntl(F_SETFD,
     * FD_CLOEXEC)}: a channel adopting an fd makes it behave as one it opened itself. Other bits
     * of {@code flags} are ignored.
     */
    void addFlags(int fd, int flags) throws ErrnoException;

    /** Closes a file descriptor, like {@code close(2)}. */
    void close(int fd) throws ErrnoException;

    /** How this layer's fds tell a Netty event loop that they can be read or written. */
    TunReadiness readiness();

    /**
     * The submission ring (io_uring) this layer's channels can use instead of
     * {@link #readiness()}, on loops of the ring's kind; null when the layer has none.
     */
    default TunRing ring() {
        return null;
    }
}
