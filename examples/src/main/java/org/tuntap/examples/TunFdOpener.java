package org.tuntap.examples;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerDomainSocketChannel;
import io.netty.channel.unix.DomainSocketAddress;
import io.netty.channel.unix.FileDescriptor;
import org.tuntap.transport.TunMode;
import org.tuntap.transport.linux.LinuxInterfaces;
import org.tuntap.transport.linux.LinuxTun;
import org.tuntap.transport.spi.Ifreq;
import org.tuntap.transport.spi.OpenFlags;
import org.tuntap.transport.spi.TunIoSystem;
import org.tuntap.transport.spi.TunIoctl;

import java.io.PrintStream;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

/**
 * The privileged half of the privilege-separated echo: opens and configures a TUN/TAP device
 * (this needs CAP_NET_ADMIN), then hands its fd to every process that connects to a Unix domain
 * socket, as {@code SCM_RIGHTS} ancillary data (Netty's epoll domain socket channel writes a
 * {@link FileDescriptor} that way). The unprivileged half is {@link AdoptedFdEcho}.
 *
 * <pre>
 * java --enable-native-access=ALL-UNNAMED -cp udp-echo.jar org.tuntap.examples.TunFdOpener \
 *     --socket /run/tun-echo.sock [--name tun0] [--mode tun|tap] [--pi] [--address 198.51.100.1/24] [--seconds N]
 * </pre>
 * It keeps the fd (so the device lives) and serves it until stopped: a restarted echo connects
 * again and gets the same device.
 */
public final class TunFdOpener {
    private TunFdOpener() {
    }

    public static void main(String[] args) throws Exception {
        System.exit(run(args, System.out));
    }

    static int run(String[] args, PrintStream out) throws Exception {
        Path socket = null;
        String name = null;
        TunMode mode = TunMode.TUN;
        boolean packetInfo = false;
        String address = "198.51.100.1/24";
        long seconds = 0;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--socket": socket = Paths.get(args[++i]); break;
                case "--name": name = args[++i]; break;
                case "--mode": mode = TunMode.valueOf(args[++i].toUpperCase(Locale.ROOT)); break;
                case "--pi": packetInfo = true; break;
                case "--address": address = args[++i]; break;
                case "--seconds": seconds = Long.parseLong(args[++i]); break;
                default:
                    out.println("unknown argument: " + args[i] + "\nusage: TunFdOpener --socket PATH [--name NAME]"
                            + " [--mode tun|tap] [--pi] [--address A.B.C.D/PREFIX] [--seconds N]");
                    return 2;
            }
        }
        if (socket == null) {
            out.println("--socket PATH is required");
            return 2;
        }
        if (!LinuxTun.isAvailable()) {
            out.println("the native TUN layer is unavailable: " + LinuxTun.unavailabilityCause().getMessage());
            return 1;
        }

        // Open and configure the device: the privileged part.
        TunIoSystem io = LinuxTun.ioSystem();
        int fd = io.open(TunIoctl.DEVICE_PATH, OpenFlags.O_RDWR | OpenFlags.O_CLOEXEC);
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
        try {
            byte[] ifreq = Ifreq.encode(name != null ? name : mode.defaultNameTemplate(),
                    mode.flag() | (packetInfo ? 0 : TunIoctl.IFF_NO_PI));
            io.ioctl(fd, TunIoctl.TUNSETIFF, ifreq);
            String device = Ifreq.name(ifreq);
            int slash = address.indexOf('/');
            LinuxInterfaces interfaces = LinuxTun.interfaces();
            interfaces.setIpv4Address(device, (Inet4Address) InetAddress.getByName(address.substring(0, slash)),
                    Integer.parseInt(address.substring(slash + 1)));
            interfaces.setUp(device, true);

            // Serve the fd: each connection gets a copy of it, then the connection closes.
            Files.deleteIfExists(socket);
            Channel server = new ServerBootstrap().group(group)
                    .channel(EpollServerDomainSocketChannel.class)
                    .childHandler(new ChannelInboundHandlerAdapter() {
                        @Override
                        public void channelActive(ChannelHandlerContext ctx) {
                            // The kernel duplicates the fd into the receiver; ours stays open.
                            ctx.writeAndFlush(new FileDescriptor(fd)).addListener(ChannelFutureListener.CLOSE);
                            out.printf("sent the fd of %s%n", device);
                        }
                    })
                    .bind(new DomainSocketAddress(socket.toFile())).sync().channel();
            out.printf("%s (%s%s): address %s, up; serving its fd on %s%n", device, mode,
                    packetInfo ? ", packet information" : "", address, socket);
            Runtime.getRuntime().addShutdownHook(new Thread(() -> server.close().syncUninterruptibly(), "opener-stop"));
            if (seconds > 0) {
                server.closeFuture().await(seconds, TimeUnit.SECONDS);
                server.close().sync();
            } else {
                server.closeFuture().sync();
            }
            return 0;
        } finally {
            group.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
            io.close(fd);
            Files.deleteIfExists(socket);
        }
    }
}
