package org.tuntap.transport.linux;

import io.netty.channel.IoHandle;
import io.netty.channel.epoll.EpollIoHandle;
import io.netty.channel.unix.FileDescriptor;
import org.tuntap.transport.spi.ForwardingIoHandle;

/** A TUN fd in the shape {@code EpollIoHandler} accepts, forwarding everything to the channel. */
final class EpollTunHandle extends ForwardingIoHandle implements EpollIoHandle {
    private final BorrowedFileDescriptor fd;

    EpollTunHandle(BorrowedFileDescriptor fd, IoHandle target) {
        super(target);
        this.fd = fd;
    }

    @Override
    public FileDescriptor fd() {
        return fd;
    }

    @Override
    public String toString() {
        return "EpollTunHandle(fd " + fd.intValue() + " -> " + target() + ")";
    }
}
