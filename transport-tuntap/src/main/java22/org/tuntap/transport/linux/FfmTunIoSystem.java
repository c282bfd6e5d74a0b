package org.tuntap.transport.linux;

import io.netty.buffer.ByteBuf;
import io.netty.util.IllegalReferenceCountException;
import org.tuntap.transport.spi.Errno;
import org.tuntap.transport.spi.ErrnoException;
import org.tuntap.transport.spi.Ifreq;
import org.tuntap.transport.spi.OpenFlags;
import org.tuntap.transport.spi.TunIoSystem;
import org.tuntap.transport.spi.TunIoctl;
import org.tuntap.transport.spi.TunReadiness;
import org.tuntap.transport.spi.TunRing;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;

/**
 * The native fd layer: {@code /dev/net/tun} through FFM downcalls, readiness through Netty's
 * {@code EpollIoHandler}. Made by {@link LinuxTun} (reflectively, after checking the runtime).
 *
 * <p>Packet I/O goes straight between the fd and the buffer's memory, with no copy: native
 * buffers by address, heap buffers as heap segments (critical downcalls may take heap arrays).
 * Why FFM rather than Netty's JNI {@code FileDescriptor.readAddress}/{@code writeAddress}: it
 * is as fast, and does more. Measured with {@code NativeReadWriteBenchmark} (test sources; 2-core
 * build machine under load from other builds, JDK 25, best of 5 one-second rounds, FFM/JNI on
 * the same fd): a 64-byte packet write 0.98 to 1.12 (parity within noise, one outlier 0.79);
 * an EAGAIN read 0.92 to 0.94, the gap being the stackless exception this SPI throws per EAGAIN
 * (0.97 to 1.01 when a shared instance was tried; not kept, since a shared mutable exception is
 * a hazard for one EAGAIN per read loop). FFM also takes heap buffers without a copy, and needs
 * no {@code Epoll.ensureAvailability()} for the I/O itself.
 */
final class FfmTunIoSystem implements TunIoSystem {
    private final EpollTunReadiness readiness = new EpollTunReadiness();
    private final TunRing ring = IoUringTunRing.ifPresent();

    FfmTunIoSystem() {
    }

    @Override
    public int open(String path, int flags) throws ErrnoException {
        int fd;
        try (Arena arena = Arena.ofConfined()) {
            fd = LibC.open(arena.allocateFrom(path), linuxOpenFlags(flags));
        }
        if (fd < 0) {
            throw NativeErrors.open(path, LibC.errno());
        }
        return fd;
    }

    private static int linuxOpenFlags(int flags) {
        int linux = 0;
        if ((flags & OpenFlags.O_RDWR) != 0) {
            linux |= LibC.O_RDWR;
        }
        if ((flags & OpenFlags.O_NONBLOCK) != 0) {
            linux |= LibC.O_NONBLOCK;
        }
        if ((flags & OpenFlags.O_CLOEXEC) != 0) {
            linux |= LibC.O_CLOEXEC;
        }
        return linux;
    }

    @Override
    public void ioctl(int fd, long request, byte[] argument) throws ErrnoException {
        int required = TunIoctl.argumentSize(request);
        if (argument.length < required) {
            throw new ErrnoException("ioctl(" + TunIoctl.requestName(request) + ")", Errno.EINVAL,
                    "argument of " + argument.length + " bytes; the kernel uses " + required);
        }
        try (Arena arena = Arena.ofConfined()) {
            // The kernel goes by the request, not by the array: never give it less than the
            // largest argument of any TUN request (an ifreq), whatever the request.
            MemorySegment native_ = arena.allocate(Math.max(argument.length, Ifreq.SIZE));
            MemorySegment.copy(argument, 0, native_, JAVA_BYTE, 0, argument.length);
            if (LibC.ioctl(fd, request, native_) < 0) {
                throw NativeErrors.ioctl(TunIoctl.requestName(request), LibC.errno(), argument);
            }
            MemorySegment.copy(native_, JAVA_BYTE, 0, argument, 0, argument.length);
        }
    }

    @Override
    public int ioctl(int fd, long request, long value) throws ErrnoException {
        int result = LibC.ioctl(fd, request, value);
        if (result < 0) {
            throw NativeErrors.ioctl(TunIoctl.requestName(request), LibC.errno(), null);
        }
        return result;
    }

    @Override
    public int read(int fd, ByteBuf destination, int limit) throws ErrnoException {
        // The kernel writes through a raw address: a wrong limit or a freed buffer must fail
        // here, not corrupt memory.
        checkAccessible(destination);
        if (limit <= 0 || limit > destination.writableBytes()) {
            throw new IllegalArgumentException("read limit " + limit + " outside 1.."
                    + destination.writableBytes() + " (the buffer's writable bytes)");
        }
        int writerIndex = destination.writerIndex();
        long n;
        if (destination.hasMemoryAddress()) {
            n = LibC.read(fd, destination.memoryAddress() + writerIndex, limit);
        } else if (destination.hasArray()) {
            n = LibC.read(fd, MemorySegment.ofArray(destination.array())
                    .asSlice(destination.arrayOffset() + writerIndex, limit));
        } else {
            // A composite or other buffer without one backing region: read into a scratch array.
            byte[] scratch = new byte[limit];
            n = LibC.read(fd, MemorySegment.ofArray(scratch));
            if (n > 0) {
                destination.setBytes(writerIndex, scratch, 0, (int) n);
            }
        }
        if (n < 0) {
            throw NativeErrors.readWrite("read", LibC.errno());
        }
        if (n == 0) {
            // A TUN fd never returns an empty packet; 0 would be end of file on another kind of fd.
            throw new ErrnoException("read", Errno.EIO, "end of file");
        }
        destination.writerIndex(writerIndex + (int) n);
        return (int) n;
    }

    @Override
    public int write(int fd, ByteBuf source) throws ErrnoException {
        checkAccessible(source);
        int readerIndex = source.readerIndex();
        int length = source.readableBytes();
        long n;
        if (source.hasMemoryAddress()) {
            n = LibC.write(fd, source.memoryAddress() + readerIndex, length);
        } else if (source.hasArray()) {
            n = LibC.write(fd, MemorySegment.ofArray(source.array())
                    .asSlice(source.arrayOffset() + readerIndex, length));
        } else if (source.nioBufferCount() == 1) {
            // One region that is neither a plain array nor addressable (a read-only view, say).
            n = LibC.write(fd, MemorySegment.ofBuffer(source.nioBuffer(readerIndex, length)));
        } else {
            n = writeGathered(fd, source, readerIndex, length);
        }
        if (n < 0) {
            throw NativeErrors.readWrite("write", LibC.errno());
        }
        return (int) n;
    }

    /**
     * Several regions (a composite: the codecs put each header in front of the payload this
     * way): one {@code writev} of their native memory, so the payload is not copied. Heap parts,
     * or more parts than an iovec array here holds, are copied into one array instead.
     */
    private static long writeGathered(int fd, ByteBuf source, int index, int length) {
        if (source.nioBufferCount() <= LibC.MAX_IOVECS) {
            ByteBuffer[] parts = source.nioBuffers(index, length);
            MemorySegment iovecs = LibC.iovecs();
            boolean allNative = true;
            for (int i = 0; i < parts.length && allNative; i++) {
                ByteBuffer part = parts[i];
                allNative = part.isDirect();
                if (allNative) {
                    iovecs.set(ValueLayout.JAVA_LONG, i * LibC.IOVEC_SIZE, MemorySegment.ofBuffer(part).address());
                    iovecs.set(ValueLayout.JAVA_LONG, i * LibC.IOVEC_SIZE + 8, part.remaining());
                }
            }
            if (allNative) {
                return LibC.writev(fd, iovecs, parts.length);
            }
        }
        byte[] scratch = new byte[length];
        source.getBytes(index, scratch);
        return LibC.write(fd, MemorySegment.ofArray(scratch));
    }

    private static void checkAccessible(ByteBuf buffer) {
        if (buffer.refCnt() == 0) {
            throw new IllegalReferenceCountException(0);
        }
    }

    @Override
    public void addFlags(int fd, int flags) throws ErrnoException {
        if ((flags & OpenFlags.O_NONBLOCK) != 0) {
            int status = LibC.fcntl(fd, LibC.F_GETFL, 0);
            if (status < 0 || (status & LibC.O_NONBLOCK) == 0
                    && LibC.fcntl(fd, LibC.F_SETFL, status | LibC.O_NONBLOCK) < 0) {
                throw new ErrnoException("fcntl(F_SETFL, O_NONBLOCK)", LibC.errno());
            }
        }
        if ((flags & OpenFlags.O_CLOEXEC) != 0) {
            int descriptorFlags = LibC.fcntl(fd, LibC.F_GETFD, 0);
            if (descriptorFlags < 0 || (descriptorFlags & LibC.FD_CLOEXEC) == 0
                    && LibC.fcntl(fd, LibC.F_SETFD, descriptorFlags | LibC.FD_CLOEXEC) < 0) {
                throw new ErrnoException("fcntl(F_SETFD, FD_CLOEXEC)", LibC.errno());
            }
        }
    }

    @Override
    public void close(int fd) throws ErrnoException {
        // Mark Netty's view of the fd closed first, so a later cancel of its epoll registration
        // does not touch the number (which the kernel may have handed to a new file by then).
        readiness.released(fd);
        if (LibC.close(fd) < 0) {
            int errno = LibC.errno();
            // On Linux the fd is released even when close reports EINTR: nothing to retry.
            if (errno != Errno.EINTR) {
                throw new ErrnoException("close", errno);
            }
        }
    }

    @Override
    public TunReadiness readiness() {
        return readiness;
    }

    /** Netty's io_uring loop, when its classes are on the class path (they are a dependency). */
    @Override
    public TunRing ring() {
        return ring;
    }

    @Override
    public String toString() {
        return "LinuxTun(/dev/net/tun via FFM, epoll readiness" + (ring != null ? " or io_uring" : "") + ")";
    }
}
