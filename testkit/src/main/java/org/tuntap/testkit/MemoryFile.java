package org.tuntap.testkit;

import io.netty.buffer.ByteBuf;
import org.tuntap.transport.spi.ErrnoException;

/**
 * One open file of a {@link MemoryIoSystem}: what the system forwards {@code read}, {@code write},
 * {@code ioctl} and {@code close} of an fd to, after it has checked permissions and the fd.
 * {@link Tunnel} is the one the test kit ships; {@link MemoryIoSystem#registerSpecialDevice}
 * lets a test plug in its own.
 */
public interface MemoryFile extends Pollable {

    /** Like {@link org.tuntap.transport.spi.TunIoSystem#read}, for this file. */
    int read(ByteBuf destination, int limit) throws ErrnoException;

    /** Like {@link org.tuntap.transport.spi.TunIoSystem#write}, for this file. */
    int write(ByteBuf source) throws ErrnoException;

    /**
     * A pointer-argument ioctl. The system has already rejected every request but
     * {@code TUNSETIFF}, {@code TUNGETIFF}, {@code TUNGETFEATURES} and {@code TUNSETVNETHDRSZ}.
     */
    void ioctl(long request, byte[] argument) throws ErrnoException;

    /**
     * Like {@link org.tuntap.transport.spi.TunIoSystem#addFlags}, for this file. The default
     * ignores it: in-memory files never block.
     */
    default void addFlags(int flags) throws ErrnoException {
    }

    /**
     * A value-argument ioctl; the system passes on only {@code TUNSETOFFLOAD}. By default it
     * fails with EINVAL, as for a file that is no tunnel.
     */
    default int ioctl(long request, long value) throws ErrnoException {
        throw new ErrnoException("ioctl(" + org.tuntap.transport.spi.TunIoctl.requestName(request) + ")",
                org.tuntap.transport.spi.Errno.EINVAL, "not supported by " + this);
    }

    /** Called once, when the system closes the fd; the file must then wake its readiness listener. */
    void close();
}
