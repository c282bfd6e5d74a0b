package org.tuntap.transport.linux;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.EpollIoHandler;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.tuntap.testsupport.Netns;
import org.tuntap.transport.TunAddress;
import org.tuntap.transport.TunChannel;
import org.tuntap.transport.TunChannelOption;
import org.tuntap.transport.TunMode;

import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

/** The README's "Native Linux quick start", run as written (plus a packet to prove it works). */
@Tag("netns")
class NativeQuickStartTest {

    @Test
    void quickStartAsInTheReadme() throws Exception {
        Netns.require();
        BlockingQueue<Integer> seen = new LinkedBlockingQueue<>();

        // --- README begins
        LinuxTun.ensureAvailability(); // UnsatisfiedLinkError saying what is missing, if anything

        EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
        TunChannel tun = (TunChannel) new Bootstrap()
                .group(group)
                .channelFactory(TunChannel.factory(LinuxTun.ioSystem()))
                .option(TunChannelOption.MODE, TunMode.TUN)
                .option(TunChannelOption.PACKET_INFO, false) // IFF_NO_PI: bare IP packets
                .handler(new ChannelInboundHandlerAdapter() {
                    @Override
                    public void channelRead(ChannelHandlerContext ctx, Object msg) {
                        ByteBuf packet = (ByteBuf) msg; // one IPv4 or IPv6 packet
                        try {
                            int version = packet.getUnsignedByte(packet.readerIndex()) >> 4;
                            seen.add(version);
                        } finally {
                            packet.release();
                        }
                    }
                })
                .bind(new TunAddress("tun%d")).sync().channel(); // the kernel picks tun0, tun1, ...

        String name = tun.localAddress().name();
        LinuxInterfaces interfaces = LinuxTun.interfaces();
        interfaces.setMtu(name, 1400);
        interfaces.setIpv4Address(name, (Inet4Address) InetAddress.getByName("192.0.2.1"), 24);
        interfaces.setUp(name, true);
        // --- README ends

        try (DatagramSocket socket = new DatagramSocket(0, InetAddress.getByName("192.0.2.1"))) {
            socket.send(new DatagramPacket(new byte[4], 4, InetAddress.getByName("192.0.2.2"), 9));
            Integer version;
            do {
                version = seen.poll(5, TimeUnit.SECONDS);
                assertNotNull(version, "no packet reached channelRead");
            } while (version != 4); // skip the kernel's IPv6 chatter
            assertEquals(4, (int) version);
        } finally {
            tun.close().sync();
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
        }
    }
}
