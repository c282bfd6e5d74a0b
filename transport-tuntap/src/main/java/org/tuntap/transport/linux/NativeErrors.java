package org.tuntap.transport.linux;

import org.tuntap.transport.spi.Errno;
import org.tuntap.transport.spi.ErrnoException;
import org.tuntap.transport.spi.Ifreq;

/**
 * Turns the errnos of the native layer into {@link ErrnoException}s that say what to do.
 *
 * <p>The kernel's answer alone ("EPERM") rarely tells a user which privilege or which setting is
 * missing; the operation does, so the hints are chosen here, per operation.
 */
final class NativeErrors {
    static final String NEEDS_CAP_NET_ADMIN = "the process needs CAP_NET_ADMIN";

    private NativeErrors() {
    }

    static ErrnoException open(String path, int errno) {
        String detail;
        switch (errno) {
            case Errno.ENOENT:
                detail = path + " does not exist: load the tun module (modprobe tun) or create it"
                        + " (mknod " + path + " c 10 200)";
                break;
            case Errno.EACCES:
            case Errno.EPERM:
                detail = "no permission to open " + path + " for reading and writing";
                break;
            default:
                detail = path;
        }
        return new ErrnoException("open", errno, detail);
    }

    /** A failed ioctl; {@code ifreq} is the request's argument when it is an ifreq, else null. */
    static ErrnoException ioctl(String request, int errno, byte[] ifreq) {
        String operation = "ioctl(" + request + ")";
        String device = ifreq != null && ifreq.length == Ifreq.SIZE ? "'" + Ifreq.name(ifreq) + "'" : null;
        boolean attach = request.equals("TUNSETIFF") || request.equals("TUNSETQUEUE");
        String detail = null;
        if (errno == Errno.EPERM) {
            detail = attach
                    ? NEEDS_CAP_NET_ADMIN + " to create a TUN/TAP device or attach to one it does not"
                    + " own (run as root, grant it with setcap cap_net_admin+ep, or let an admin create"
                    + " a persistent device owned by this user: ip tuntap add ... user NAME)"
                    : NEEDS_CAP_NET_ADMIN + " to change interface settings";
        } else if (attach && errno == Errno.EBUSY) {
            detail = "device " + device + " exists and cannot be attached: another fd holds it,"
                    + " IFF_TUN_EXCL was asked, or its mode or multi-queue setting differs";
        } else if (attach && errno == Errno.EINVAL) {
            detail = "the kernel refused name " + device + " or the flags (an invalid interface name,"
                    + " a flag this kernel does not support, or a mode mismatch with an existing device)";
        } else if (errno == Errno.ENODEV) {
            detail = device == null ? "no such device" : "no interface named " + device;
        } else if (errno == Errno.EBADFD) {
            detail = "the fd is not attached to a device (never attached, or the device was deleted)";
        } else if (device != null) {
            detail = "device " + device;
        }
        return new ErrnoException(operation, errno, detail);
    }

    /** A failed read or write; EAGAIN and EINTR come back stackless, as flow control. */
    static ErrnoException readWrite(String operation, int errno) {
        switch (errno) {
            case Errno.EAGAIN:
                return ErrnoException.wouldBlock(operation);
            case Errno.EINTR:
                return ErrnoException.interrupted(operation);
            case Errno.EBADFD:
                return new ErrnoException(operation, errno, "the fd's device is gone (deleted?)");
            case Errno.EIO:
                return new ErrnoException(operation, errno, "the link is down (ip link set DEV up)");
            case Errno.EINVAL:
                return new ErrnoException(operation, errno,
                        "the kernel refused the packet (without packet information, a TUN packet"
                                + " must start with IP version 4 or 6)");
            default:
                return new ErrnoException(operation, errno);
        }
    }
}
