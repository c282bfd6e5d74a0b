package org.tuntap.transport.spi;

import java.io.IOException;

/**
 * A failed operation of a {@link TunIoSystem}, carrying the errno so callers can act on it.
 *
 * <p>{@link #wouldBlock(String)} and {@link #interrupted(String)} make exceptions without a stack
 * trace: they are flow control on the hot path (one per drained read loop), not errors.
 */
public class ErrnoException extends IOException {
    private static final long serialVersionUID = 1L;

    /** The failed operation, such as {@code "read"}. */
    private final String operation;
    /** The Linux errno. */
    private final int errno;

    /**
     * A failure with the message "{@code operation} failed: {@code ENAME}".
     *
     * @param operation what failed, such as {@code "read"} or {@code "ioctl(TUNSETIFF)"}
     * @param errno the Linux errno, see {@link Errno}
     */
    public ErrnoException(String operation, int errno) {
        this(operation, errno, null);
    }

    /**
     * A failure with a detail appended to the message in parentheses.
     *
     * @param operation what failed, such as {@code "read"} or {@code "ioctl(TUNSETIFF)"}
     * @param errno the Linux errno, see {@link Errno}
     * @param detail more about the failure, or null
     */
    public ErrnoException(String operation, int errno, String detail) {
        super(message(operation, errno, detail));
        this.operation = operation;
        this.errno = errno;
    }

    private ErrnoException(String operation, int errno, boolean lazyMessage) {
        super((String) null);
        this.operation = operation;
        this.errno = errno;
    }

    /** EAGAIN without a stack trace. */
    public static ErrnoException wouldBlock(String operation) {
        return new Stackless(operation, Errno.EAGAIN);
    }

    /** EINTR without a stack trace. */
    public static ErrnoException interrupted(String operation) {
        return new Stackless(operation, Errno.EINTR);
    }

    private static String message(String operation, int errno, String detail) {
        String message = operation + " failed: " + Errno.name(errno);
        return detail == null ? message : message + " (" + detail + ")";
    }

    /** The errno, one of {@link Errno}'s constants for the values a TUN port meets. */
    public int errno() {
        return errno;
    }

    /** The failed operation, such as {@code "read"} or {@code "ioctl(TUNSETIFF)"}. */
    public String operation() {
        return operation;
    }

    /** True for EAGAIN/EWOULDBLOCK: nothing to read now, or no room to write now. */
    public boolean isWouldBlock() {
        return errno == Errno.EAGAIN;
    }

    /** True for EINTR: a signal interrupted the call; retry it. */
    public boolean isInterrupted() {
        return errno == Errno.EINTR;
    }

    /**
     * Flow-control errnos, made once per drained read loop: no stack walk, and the message is
     * built only if someone reads it.
     */
    private static final class Stackless extends ErrnoException {
        private static final long serialVersionUID = 1L;

        Stackless(String operation, int errno) {
            super(operation, errno, true);
        }

        @Override
        public synchronized Throwable fillInStackTrace() {
            return this;
        }

        @Override
        public String getMessage() {
            return message(operation(), errno(), null);
        }
    }
}
