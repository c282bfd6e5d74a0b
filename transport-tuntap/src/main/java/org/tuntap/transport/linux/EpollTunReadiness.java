package org.tuntap.transport.linux;

import io.netty.channel.IoEvent;
import io.netty.channel.IoEventLoop;
import io.netty.channel.IoHandle;
import io.netty.channel.IoOps;
import io.netty.channel.epoll.EpollIoEvent;
import io.netty.channel.epoll.EpollIoOps;
import org.tuntap.transport.spi.TunReadiness;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;

/**
 * Readiness of TUN fds through Netty's {@code EpollIoHandler}, so a TUN channel shares an
 * epoll event loop with Netty's own epoll channels.
 *
 * <p>Only made once Netty's epoll library is loaded ({@code EpollIoOps} loads it when first
 * touched). Interest is level-triggered: the channel reads until EAGAIN or its budget, and an
 * fd left readable is reported again.
 */
final class EpollTunReadiness implements TunReadiness {
    /** Not among {@link EpollIoOps}' constants; the value of {@code <sys/epoll.h>}. */
    private static final int EPOLLHUP = 0x010;
    // An error or hang-up (the device deleted) counts as readable and writable, so the next
    // read or write reports the errno and the channel closes, instead of epoll spinning on it.
    private static final int READABLE = EpollIoOps.EPOLLIN.value() | EpollIoOps.EPOLLERR.value()
            | EpollIoOps.EPOLLRDHUP.value() | EPOLLHUP;
    private static final int WRITABLE = EpollIoOps.EPOLLOUT.value() | EpollIoOps.EPOLLERR.value() | EPOLLHUP;
    private static final EpollIoOps READ_AND_WRITE = EpollIoOps.EPOLLIN.with(EpollIoOps.EPOLLOUT);
    /**
     * "Neither read nor write", without {@link EpollIoOps#NONE}: Netty 4.2.18's registration
     * takes an all-zero mask as "remove the fd from epoll" (epoll_ctl DEL) but still believes the
     * fd is added, so the next interest (a {@code read()} with auto-read off) is an epoll_ctl MOD
     * that fails with ENOENT. EPOLLET alone keeps the fd in the set with no interest; errors and
     * hang-ups, which epoll always reports, then wake the loop once each instead of spinning.
     */
    private static final EpollIoOps NO_INTEREST = EpollIoOps.EPOLLET;

    private final ConcurrentMap<Integer, BorrowedFileDescriptor> lent = new ConcurrentHashMap<>();

    @Override
    public boolean isCompatible(IoEventLoop loop) {
        return loop.isCompatible(EpollTunHandle.class);
    }

    @Override
    public IoHandle handle(int fd, IoHandle target) {
        BorrowedFileDescriptor descriptor = new BorrowedFileDescriptor(fd);
        lent.put(fd, descriptor);
        return new EpollTunHandle(descriptor, target);
    }

    @Override
    public IoOps ops(boolean read, boolean write) {
        if (read) {
            return write ? READ_AND_WRITE : EpollIoOps.EPOLLIN;
        }
        return write ? EpollIoOps.EPOLLOUT : NO_INTEREST;
    }

    @Override
    public boolean isReadable(IoEvent event) {
        return (((EpollIoEvent) event).ops().value() & READABLE) != 0;
    }

    @Override
    public boolean isWritable(IoEvent event) {
        return (((EpollIoEvent) event).ops().value() & WRITABLE) != 0;
    }

    /** The io system is about to close {@code fd}: Netty's view of it must stop using it. */
    void released(int fd) {
        BorrowedFileDescriptor descriptor = lent.remove(fd);
        if (descriptor != null) {
            descriptor.released();
        }
    }
}
