package org.tuntap.transport.linux;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.EpollIoHandler;
import org.tuntap.transport.TunAddress;
import org.tuntap.transport.TunChannel;
import org.tuntap.transport.spi.ErrnoException;
import org.tuntap.transport.spi.TunIoctl;

import java.util.concurrent.TimeUnit;

/**
 * Run in a child JVM (with capabilities dropped) by {@link PrivilegeTest}: tries to create a
 * TUN device, through the fd layer and then by binding a {@link TunChannel}, and prints the
 * outcomes.
 */
public final class AttachProbe {
    private AttachProbe() {
    }

    public static void main(String[] args) throws Exception {
        LinuxTun.ensureAvailability();
        try (TunFd tun = TunFd.attach(args[0], TunIoctl.IFF_TUN)) {
            System.out.println("attached=" + tun.name);
        } catch (ErrnoException e) {
            System.out.println("errno=" + e.errno());
            System.out.println("message=" + e.getMessage());
        }
        MultiThreadIoEventLoopGroup group = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
        try {
            ChannelFuture bind = new Bootstrap().group(group)
                    .channelFactory(TunChannel.factory(LinuxTun.ioSystem()))
                    .handler(new ChannelInboundHandlerAdapter())
                    .bind(new TunAddress(args[0])).await();
            System.out.println(bind.isSuccess() ? "bound=" + bind.channel().localAddress()
                    : "bindFailure=" + bind.cause());
            bind.channel().close().sync();
        } finally {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
        }
    }
}
