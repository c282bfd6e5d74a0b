package org.tuntap.transport.spi;

/**
 * The Linux errno values a TUN port acts on, and their names for messages.
 *
 * <p>Every fd layer reports failures with these numbers (the in-memory one too), so the channel
 * has one set of rules: {@link #EAGAIN} and {@link #EINTR} are flow control, the rest are errors.
 * On Linux {@code EWOULDBLOCK} is {@code EAGAIN}.
 */
public final class Errno {
    public static final int EPERM = 1;
    public static final int EINTR = 4;
    public static final int EIO = 5;
    public static final int EBADF = 9;
    public static final int EAGAIN = 11;
    public static final int EWOULDBLOCK = EAGAIN;
    public static final int ENOMEM = 12;
    public static final int EFAULT = 14;
    public static final int EBUSY = 16;
    public static final int EEXIST = 17;
    public static final int ENODEV = 19;
    public static final int EINVAL = 22;
    public static final int ENFILE = 23;
    public static final int EMFILE = 24;
    public static final int ENOTTY = 25;
    public static final int ENOSPC = 28;
    public static final int ENOSYS = 38;
    public static final int EBADFD = 77;
    public static final int EMSGSIZE = 90;
    public static final int EOPNOTSUPP = 95;
    public static final int ENOBUFS = 105;
    public static final int ENOENT = 2;
    public static final int EACCES = 13;
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
