package org.tuntap.transport.linux;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * The C library calls the native layer makes, as FFM downcalls that capture {@code errno}.
 *
 * <p>Every method returns the raw result; when it is negative, {@link #errno()} on the same
 * thread tells why. Each thread has its own capture buffer, so no call allocates.
 */
@SuppressWarnings("restricted") // downcalls are what this class is for; LinuxTun checks native access first
final class LibC {
    static final int O_RDWR = 2;
    static final int O_NONBLOCK = 0x800;
    static final int O_CLOEXEC = 0x80000;
    static final int F_GETFD = 1;
    static final int F_SETFD = 2;
    static final int F_GETFL = 3;
    static final int F_SETFL = 4;
    static final int FD_CLOEXEC = 1;
    static final int AF_INET = 2;
    static final int SOCK_DGRAM = 2;
    static final int SOCK_CLOEXEC = 0x80000;

    private static final Linker LINKER = Linker.nativeLinker();
    private static final StructLayout CALL_STATE_LAYOUT = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO =
            CALL_STATE_LAYOUT.varHandle(MemoryLayout.PathElement.groupElement("errno"));
    private static final Linker.Option CAPTURE_ERRNO = Linker.Option.captureCallState("errno");
    /*
     * read/write are "critical": no thread-state transition around the call, and heap arrays
     * may be passed directly. That is sound here because the fds are non-blocking, so the call
     * is one bounded copy of at most one packet, and it never calls back into Java.
     */
    private static final Linker.Option CRITICAL_HEAP = Linker.Option.critical(true);

    private static final MethodHandle OPEN = downcall("open",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT), CAPTURE_ERRNO);
    private static final MethodHandle CLOSE = downcall("close",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT), CAPTURE_ERRNO);
    // fcntl is variadic: the third argument (an int for the commands used here) is the first variadic one.
    private static final MethodHandle FCNTL = downcall("fcntl",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT),
            CAPTURE_ERRNO, Linker.Option.firstVariadicArg(2));
    private static final MethodHandle SOCKET = downcall("socket",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT), CAPTURE_ERRNO);
    // ioctl is variadic: the third argument is the first variadic one.
    private static final MethodHandle IOCTL_POINTER = downcall("ioctl",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG, ADDRESS),
            CAPTURE_ERRNO, Linker.Option.firstVariadicArg(2));
    private static final MethodHandle IOCTL_VALUE = downcall("ioctl",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG, JAVA_LONG),
            CAPTURE_ERRNO, Linker.Option.firstVariadicArg(2));
    // Native memory by raw address (a long is a pointer in the 64-bit Linux ABIs): no segment
    // object per call on the hot path.
    private static final MethodHandle READ_ADDRESS = downcall("read",
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, JAVA_LONG, JAVA_LONG), CAPTURE_ERRNO, CRITICAL_HEAP);
    private static final MethodHandle WRITE_ADDRESS = downcall("write",
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, JAVA_LONG, JAVA_LONG), CAPTURE_ERRNO, CRITICAL_HEAP);
    // Any segment, heap arrays included (allowed by critical(true)).
    private static final MethodHandle READ_SEGMENT = downcall("read",
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG), CAPTURE_ERRNO, CRITICAL_HEAP);
    private static final MethodHandle WRITE_SEGMENT = downcall("write",
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG), CAPTURE_ERRNO, CRITICAL_HEAP);

    /** {@code writev}: one packet from several native regions (a header and its payload). */
    private static final MethodHandle WRITEV_ADDRESS = downcall("writev",
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, JAVA_LONG, JAVA_INT), CAPTURE_ERRNO, CRITICAL_HEAP);
    /** The most regions one {@link #writev} takes from {@link #iovecs()}. */
    static final int MAX_IOVECS = 16;
    /** {@code sizeof(struct iovec)}: a pointer and a length. */
    static final long IOVEC_SIZE = 16;

    private static final ThreadLocal<MemorySegment> IOVECS =
            ThreadLocal.withInitial(() -> Arena.ofAuto().allocate(MAX_IOVECS * IOVEC_SIZE, 8));

    private static final ThreadLocal<MemorySegment> CALL_STATE =
            ThreadLocal.withInitial(() -> Arena.ofAuto().allocate(CALL_STATE_LAYOUT));

    private LibC() {
    }

    private static MethodHandle downcall(String name, FunctionDescriptor descriptor, Linker.Option... options) {
        MemorySegment symbol = LINKER.defaultLookup().find(name)
                .orElseThrow(() -> new UnsatisfiedLinkError("C library function not found: " + name));
        return LINKER.downcallHandle(symbol, descriptor, options);
    }

    /** The errno of this thread's last call through this class that failed. */
    static int errno() {
        return (int) ERRNO.get(CALL_STATE.get(), 0L);
    }

    static int open(MemorySegment path, int flags) {
        try {
            return (int) OPEN.invokeExact(CALL_STATE.get(), path, flags);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    static int close(int fd) {
        try {
            return (int) CLOSE.invokeExact(CALL_STATE.get(), fd);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    static int fcntl(int fd, int command, int argument) {
        try {
            return (int) FCNTL.invokeExact(CALL_STATE.get(), fd, command, argument);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    static int socket(int domain, int type, int protocol) {
        try {
            return (int) SOCKET.invokeExact(CALL_STATE.get(), domain, type, protocol);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    static int ioctl(int fd, long request, MemorySegment argument) {
        try {
            return (int) IOCTL_POINTER.invokeExact(CALL_STATE.get(), fd, request, argument);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    static int ioctl(int fd, long request, long value) {
        try {
            return (int) IOCTL_VALUE.invokeExact(CALL_STATE.get(), fd, request, value);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    static long read(int fd, long address, long count) {
        try {
            return (long) READ_ADDRESS.invokeExact(CALL_STATE.get(), fd, address, count);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    static long write(int fd, long address, long count) {
        try {
            return (long) WRITE_ADDRESS.invokeExact(CALL_STATE.get(), fd, address, count);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    /** This thread's {@code struct iovec[MAX_IOVECS]} for {@link #writev}. */
    static MemorySegment iovecs() {
        return IOVECS.get();
    }

    static long writev(int fd, MemorySegment iovecs, int count) {
        try {
            return (long) WRITEV_ADDRESS.invokeExact(CALL_STATE.get(), fd, iovecs.address(), count);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    static long read(int fd, MemorySegment buffer) {
        try {
            return (long) READ_SEGMENT.invokeExact(CALL_STATE.get(), fd, buffer, buffer.byteSize());
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    static long write(int fd, MemorySegment buffer) {
        try {
            return (long) WRITE_SEGMENT.invokeExact(CALL_STATE.get(), fd, buffer, buffer.byteSize());
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    /**
     * {@code invokeExact} declares Throwable; a downcall of the right type only throws unchecked
     * exceptions and errors, which pass through as they are.
     */
    private static RuntimeException unexpected(Throwable t) {
        if (t instanceof RuntimeException) {
            return (RuntimeException) t;
        }
        if (t instanceof Error) {
            throw (Error) t;
        }
        return new IllegalStateException("downcall threw a checked exception", t);
    }
}
