package org.tuntap.transport.linux;

import org.tuntap.transport.spi.ErrnoException;
import org.tuntap.transport.spi.Ifreq;
import org.tuntap.transport.spi.OpenFlags;
import org.tuntap.transport.spi.TunIoSystem;
import org.tuntap.transport.spi.TunIoctl;

/** A {@code /dev/net/tun} fd attached to a device through the native layer, closed by try-with-resources. */
final class TunFd implements AutoCloseable {
    final TunIoSystem io;
    final int fd;
    /** The device name as the kernel wrote it back. */
    final String name;
    private boolean closed;

    private TunFd(TunIoSystem io, int fd, String name) {
        this.io = io;
        this.fd = fd;
        this.name = name;
    }

    /** Opens the clone device and attaches it with TUNSETIFF; closes the fd if that fails. */
    static TunFd attach(String name, int flags) throws ErrnoException {
        TunIoSystem io = LinuxTun.ioSystem();
        int fd = io.open(TunIoctl.DEVICE_PATH, OpenFlags.TUN_PORT);
        try {
            byte[] ifreq = Ifreq.encode(name, flags);
            io.ioctl(fd, TunIoctl.TUNSETIFF, ifreq);
            return new TunFd(io, fd, Ifreq.name(ifreq));
        } catch (ErrnoException | RuntimeException e) {
            io.close(fd);
            throw e;
        }
    }

    @Override
    public void close() throws ErrnoException {
        if (!closed) {
            closed = true;
            io.close(fd);
        }
    }
}
