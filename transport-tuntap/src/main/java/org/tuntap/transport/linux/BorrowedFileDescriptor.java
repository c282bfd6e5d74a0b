package org.tuntap.transport.linux;

import io.netty.channel.unix.FileDescriptor;

/**
 * Netty's view of a TUN fd that it must never close: the fd belongs to the channel, which
 * closes it through the {@link org.tuntap.transport.spi.TunIoSystem}.
 *
 * <p>{@code EpollIoHandler} removes an fd from epoll on cancel only while {@link #isOpen()};
 * the io system marks this view closed before closing the fd, so a late cancel never touches a
 * number the kernel may already have given to another file (the kernel drops a closed fd from
 * epoll by itself).
 */
final class BorrowedFileDescriptor extends FileDescriptor {

    BorrowedFileDescriptor(int fd) {
        super(fd);
    }

    /** Called by the io system just before it closes the fd. */
    void released() {
        markClosed();
    }

    /** Does not close the fd, only forgets it: its owner closes it. */
    @Override
    public void close() {
        markClosed();
    }
}
