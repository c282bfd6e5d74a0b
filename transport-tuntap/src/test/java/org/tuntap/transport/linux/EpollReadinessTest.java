package org.tuntap.transport.linux;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.IoEvent;
import io.netty.channel.IoEventLoop;
import io.netty.channel.IoHandle;
import io.netty.channel.IoRegistration;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.EpollIoHandle;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.unix.FileDescriptor;
import io.netty.channel.nio.NioIoHandler;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.tuntap.testsupport.Netns;
import org.tuntap.transport.spi.ErrnoException;
import org.tuntap.transport.spi.TunReadiness;

import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.tuntap.transport.spi.TunIoctl.IFF_NO_PI;
import static org.tuntap.transport.spi.TunIoctl.IFF_TUN;

/** TUN fds on Netty's own EpollIoHandler, through the native layer's readiness adapter. */
@Tag("netns")
class EpollReadinessTest {
    private static final byte[] LOCAL = {(byte) 192, 0, 2, 1};
    private static final byte[] PEER = {(byte) 192, 0, 2, 2};

    private MultiThreadIoEventLoopGroup group;
    private IoEventLoop loop;

    @BeforeEach
    void epollLoop() {
        Netns.require();
        group = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
        loop = group.next();
    }

    @AfterEach
    void shutdown() throws Exception {
        if (group != null) {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
        }
    }

    @Test
    void compatibleWithEpollLoopsOnly() throws Exception {
        TunReadiness readiness = LinuxTun.ioSystem().readiness();
        assertTrue(readiness.isCompatible(loop));
        MultiThreadIoEventLoopGroup nio = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
        try {
            assertFalse(readiness.isCompatible(nio.next()));
        } finally {
            nio.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
        }
    }

    @Test
    void packetFromASocketMakesTheFdReadableOnTheLoop() throws Exception {
        try (TunFd tun = upDevice("rdy%d");
             DatagramSocket socket = new DatagramSocket(0, InetAddress.getByAddress(LOCAL))) {
            ReadingHandle reader = new ReadingHandle(tun);
            IoRegistration registration = register(tun, reader);
            assertTrue(reader.registered.await(5, TimeUnit.SECONDS), "registered() was forwarded");

            byte[] payload = "through epoll".getBytes();
            socket.send(new DatagramPacket(payload, payload.length, InetAddress.getByAddress(PEER), 7777));
            byte[] packet = reader.nextUdpTo(7777);
            assertNotNull(packet, "no UDP packet reached the handle");
            assertEquals(new String(payload), new String(Ipv4Udp.udpPayload(packet)));

            loop.submit(registration::cancel).get(5, TimeUnit.SECONDS);
            assertTrue(reader.unregistered.await(5, TimeUnit.SECONDS), "unregistered() was forwarded");
        }
    }

    @Test
    void closingThroughTheIoSystemMarksNettysViewClosedSoALateCancelLeavesTheNumberAlone() throws Exception {
        TunFd tun = upDevice("late%d");
        ReadingHandle reader = new ReadingHandle(tun);
        IoHandle handle = tun.io.readiness().handle(tun.fd, reader);
        IoRegistration registration = loop.register(handle).get(5, TimeUnit.SECONDS);
        loop.submit(() -> registration.submit(tun.io.readiness().ops(true, false))).get(5, TimeUnit.SECONDS);
        FileDescriptor nettyView = ((EpollIoHandle) handle).fd();
        assertEquals(tun.fd, nettyView.intValue());
        assertTrue(nettyView.isOpen());

        // EpollIoHandler's cancel does EPOLL_CTL_DEL on the number only while fd().isOpen():
        // after the io system closed the fd, the number may belong to another file.
        tun.close();
        assertFalse(nettyView.isOpen());
        loop.submit(registration::cancel).get(5, TimeUnit.SECONDS);
        assertTrue(reader.unregistered.await(5, TimeUnit.SECONDS));
        assertFalse(registration.isValid());
    }

    @Test
    void nettyClosingItsViewDoesNotCloseTheChannelsFd() throws Exception {
        try (TunFd tun = TunFd.attach("keepfd%d", IFF_TUN)) {
            IoHandle handle = tun.io.readiness().handle(tun.fd, new ReadingHandle(tun));
            ((EpollIoHandle) handle).fd().close();
            assertEquals(tun.name, TunFdControl.name(tun.io, tun.fd), "the fd still works");
        }
    }

    private IoRegistration register(TunFd tun, IoHandle target) throws Exception {
        TunReadiness readiness = tun.io.readiness();
        IoRegistration registration = loop.register(readiness.handle(tun.fd, target)).get(5, TimeUnit.SECONDS);
        // Netty adds the fd to epoll on the first non-empty submit.
        loop.submit(() -> registration.submit(readiness.ops(true, false))).get(5, TimeUnit.SECONDS);
        return registration;
    }

    private static TunFd upDevice(String template) throws Exception {
        TunFd tun = TunFd.attach(template, IFF_TUN | IFF_NO_PI);
        LinuxInterfaces interfaces = LinuxTun.interfaces();
        interfaces.setIpv4Address(tun.name, (Inet4Address) InetAddress.getByAddress(LOCAL), 24);
        interfaces.setUp(tun.name, true);
        return tun;
    }

    /** Reads every packet on each readable event, as a channel's read loop does. */
    private static final class ReadingHandle implements IoHandle {
        final TunFd tun;
        final BlockingQueue<byte[]> packets = new LinkedBlockingQueue<>();
        final CountDownLatch registered = new CountDownLatch(1);
        final CountDownLatch unregistered = new CountDownLatch(1);

        ReadingHandle(TunFd tun) {
            this.tun = tun;
        }

        @Override
        public void handle(IoRegistration registration, IoEvent event) {
            if (!tun.io.readiness().isReadable(event)) {
                return;
            }
            ByteBuf buffer = PooledByteBufAllocator.DEFAULT.directBuffer(2048);
            try {
                for (;;) {
                    buffer.clear();
                    tun.io.read(tun.fd, buffer, 2048);
                    byte[] packet = new byte[buffer.readableBytes()];
                    buffer.readBytes(packet);
                    packets.add(packet);
                }
            } catch (ErrnoException e) {
                if (!e.isWouldBlock()) {
                    registration.cancel();
                }
            } finally {
                buffer.release();
            }
        }

        @Override
        public void registered() {
            registered.countDown();
        }

        @Override
        public void unregistered() {
            unregistered.countDown();
        }

        @Override
        public void close() {
        }

        byte[] nextUdpTo(int port) throws InterruptedException {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
            for (;;) {
                byte[] packet = packets.poll(deadline - System.nanoTime(), TimeUnit.NANOSECONDS);
                if (packet == null) {
                    return null;
                }
                if (Ipv4Udp.version(packet) == 4 && Ipv4Udp.protocol(packet) == Ipv4Udp.PROTOCOL_UDP
                        && Ipv4Udp.destinationPort(packet) == port) {
                    return packet;
                }
            }
        }
    }
}
