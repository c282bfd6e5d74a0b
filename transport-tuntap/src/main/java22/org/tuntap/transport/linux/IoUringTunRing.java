package org.tuntap.transport.linux;

import io.netty.channel.IoEventLoop;
import io.netty.channel.uring.IoUring;
import org.tuntap.transport.spi.TunRing;

/**
 * The native layer's ring: Netty's io_uring loop ({@code IoUringIoHandler}) polls TUN fds and
 * writes their packets ({@link IoUringTunPort}). Made only when Netty's io_uring classes are on
 * the class path; whether the kernel and Netty's library allow io_uring is asked when a port is
 * made (an io_uring loop exists by then, so it is answered already).
 */
final class IoUringTunRing implements TunRing {

    /** The ring, or null when Netty's io_uring classes are not on the class path. */
    static TunRing ifPresent() {
        try {
            Class.forName("io.netty.channel.uring.IoUringIoHandle", false, IoUringTunRing.class.getClassLoader());
            return new IoUringTunRing();
        } catch (ClassNotFoundException | LinkageError e) {
            return null;
        }
    }

    private IoUringTunRing() {
    }

    @Override
    public boolean isCompatible(IoEventLoop loop) {
        return loop.isCompatible(IoUringTunPort.class);
    }

    @Override
    public Port port(int fd, int slotSize, int slots, Events events) {
        IoUring.ensureAvailability();
        return new IoUringTunPort(fd, slotSize, slots, events);
    }

    @Override
    public String toString() {
        return "io_uring (Netty's IoUringIoHandler)";
    }
}
