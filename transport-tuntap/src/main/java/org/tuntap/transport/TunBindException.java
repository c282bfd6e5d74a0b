package org.tuntap.transport;

import org.tuntap.transport.spi.Errno;
import org.tuntap.transport.spi.ErrnoException;

import java.net.BindException;

/**
 * A {@link TunChannel} could not open or configure its device. The message names the device,
 * the step that failed and what to do about it; {@link #getCause()} is the system call's
 * {@link ErrnoException}.
 */
public final class TunBindException extends BindException {
    private static final long serialVersionUID = 1L;

    /** The errno of the failed step. */
    private final int errno;

    TunBindException(String device, ErrnoException cause) {
        super("cannot bind TUN/TAP device '" + device + "': " + cause.getMessage()
                + advice(cause.errno(), cause.getMessage()));
        this.errno = cause.errno();
        initCause(cause);
    }

    /** The errno of the failed step. */
    public int errno() {
        return errno;
    }

    /** What to do, unless the fd layer's message says it already (the native one does). */
    private static String advice(int errno, String causeMessage) {
        switch (errno) {
            case Errno.EPERM:
            case Errno.EACCES:
                return causeMessage.contains("CAP_NET_ADMIN") ? ""
                        : "; the process needs CAP_NET_ADMIN (run as root or grant the capability), "
                        + "or attach to a persistent device whose owner/group it matches";
            case Errno.EBUSY:
            case Errno.EEXIST:
                return causeMessage.contains("exists") ? ""
                        : "; the device exists already (EXCLUSIVE was asked for, or it is in use with other flags)";
            case Errno.EINVAL:
                return causeMessage.contains("refused") ? ""
                        : "; the kernel rejected the name or flags (bad name, unsupported flag, or an existing "
                        + "device of the other mode)";
            case Errno.ENOENT:
            case Errno.ENODEV:
            case Errno.ENXIO:
                return "; the TUN driver is missing (no /dev/net/tun or the tun module is not loaded)";
            default:
                return "";
        }
    }
}
