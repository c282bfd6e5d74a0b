package org.tuntap.transport.spi;

/**
 * The Linux errno values a TUN port acts on, and their names for messages.
 *
 * <p>Every fd layer reports failures with these numbers (the in-memory one too), so the channel
 * has one set of rules: {@link #EAGAIN} and {@link #EINTR} are flow control, the rest are errors.
 * On Linux {@code EWOULDBLOCK} is {@code EAGAIN}.
 */
public final class Errno {
    /** Operation not permitted: the process lacks a capability (CAP_NET_ADMIN). */
    public static final int EPERM = 1;
    /** Interrupted system call: a signal arrived; retry the call. */
    public static final int EINTR = 4;
    /** I/O error: on a TUN fd, a write while the link is down. */
    public static final int EIO = 5;
    /** Bad file descriptor: the fd is closed or was never open. */
    public static final int EBADF = 9;
    /** Try again: nothing to read now, or no room to write now (non-blocking fds). */
    public static final int EAGAIN = 11;
    /** Operation would block: the same number as {@link #EAGAIN} on Linux. */
    public static final int EWOULDBLOCK = EAGAIN;
    /** Out of memory. */
    public static final int ENOMEM = 12;
    /** Bad address: a buffer the kernel could not read or write. */
    public static final int EFAULT = 14;
    /** Device or resource busy: the device is attached to another fd (or {@code IFF_TUN_EXCL}). */
    public static final int EBUSY = 16;
    /** File exists. */
    public static final int EEXIST = 17;
    /** No such device. */
    public static final int ENODEV = 19;
    /** Invalid argument: a bad name, flag combination, packet or request argument. */
    public static final int EINVAL = 22;
    /** Too many open files in the system. */
    public static final int ENFILE = 23;
    /** Too many open files in this process. */
    public static final int EMFILE = 24;
    /** Inappropriate ioctl for this fd: an unknown request. */
    public static final int ENOTTY = 25;
    /** No space left on device. */
    public static final int ENOSPC = 28;
    /** Function not implemented. */
    public static final int ENOSYS = 38;
    /** File descriptor in bad state: the fd is not attached to a device (before {@code TUNSETIFF}, or after the device was deleted). */
    public static final int EBADFD = 77;
    /** Message too long. */
    public static final int EMSGSIZE = 90;
    /** Operation not supported. */
    public static final int EOPNOTSUPP = 95;
    /** No buffer space available: the device's send buffer is full. */
    public static final int ENOBUFS = 105;
    /** No such file or directory: {@code /dev/net/tun} is missing. */
    public static final int ENOENT = 2;
    /** Permission denied: the process may not open the file. */
    public static final int EACCES = 13;
    /** No such device or address. */
    public static final int ENXIO = 6;

    private Errno() {
    }

    /** The symbolic name, such as {@code "EAGAIN"}, or {@code "errno 123"} for others. */
    public static String name(int errno) {
        switch (errno) {
            case EPERM: return "EPERM";
            case ENOENT: return "ENOENT";
            case EINTR: return "EINTR";
            case EIO: return "EIO";
            case ENXIO: return "ENXIO";
            case EBADF: return "EBADF";
            case EAGAIN: return "EAGAIN";
            case ENOMEM: return "ENOMEM";
            case EACCES: return "EACCES";
            case EFAULT: return "EFAULT";
            case EBUSY: return "EBUSY";
            case EEXIST: return "EEXIST";
            case ENODEV: return "ENODEV";
            case EINVAL: return "EINVAL";
            case ENFILE: return "ENFILE";
            case EMFILE: return "EMFILE";
            case ENOTTY: return "ENOTTY";
            case ENOSPC: return "ENOSPC";
            case ENOSYS: return "ENOSYS";
            case EBADFD: return "EBADFD";
            case EMSGSIZE: return "EMSGSIZE";
            case EOPNOTSUPP: return "EOPNOTSUPP";
            case ENOBUFS: return "ENOBUFS";
            default: return "errno " + errno;
        }
    }
}
