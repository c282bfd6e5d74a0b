package org.tuntap.transport.linux;

import io.netty.channel.IoEvent;
import io.netty.channel.IoHandle;
import io.netty.channel.IoRegistration;
import io.netty.channel.epoll.EpollIoHandle;
import io.netty.channel.unix.FileDescriptor;

/** A TUN fd in the shape {@code EpollIoHandler} accepts, forwarding everything to the channel. */
@SuppressWarnings("try") // close() throws what IoHandle.close() may: it forwards to one
final class EpollTunHandle implements EpollIoHandle {
    private final BorrowedFileDescriptor fd;
    private final IoHandle target;

    EpollTunHandle(BorrowedFileDescriptor fd, IoHandle target) {
        this.fd = fd;
        this.target = target;
    }

    @Override
    public FileDescriptor fd() {
        return fd;
    }

    @Override
    public void handle(IoRegistration registration, IoEvent ioEvent) {
        target.handle(registration, ioEvent);
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

    @Override
    public String toString() {
        return "EpollTunHandle(fd " + fd.intValue() + " -> " + target + ")";
    }
}
