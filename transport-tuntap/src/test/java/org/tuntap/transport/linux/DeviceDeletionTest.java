package org.tuntap.transport.linux;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.IoEvent;
import io.netty.channel.IoEventLoop;
import io.netty.channel.IoHandle;
import io.netty.channel.IoRegistration;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.EpollIoHandler;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.tuntap.testsupport.Netns;
import org.tuntap.transport.spi.Errno;
import org.tuntap.transport.spi.ErrnoException;
import org.tuntap.transport.spi.TunReadiness;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.tuntap.transport.spi.TunIoctl.IFF_NO_PI;
import static org.tuntap.transport.spi.TunIoctl.IFF_TUN;

/**
 * A device deleted ({@code ip link del}) under an open fd: reads and writes fail with an errno,
 * and epoll reports the fd once as readable (error) instead of spinning.
 */
@Tag("netns")
class DeviceDeletionTest {

    @BeforeEach
    void inPrivateNamespace() {
        Netns.require();
    }

    @Test
    void readAndWriteFailAfterDeletion() throws Exception {
        try (TunFd tun = TunFd.attach("del%d", IFF_TUN | IFF_NO_PI)) {
            LinuxTun.interfaces().setUp(tun.name, true);
            Commands.ip("link", "del", "dev", tun.name);
            ByteBuf buffer = Unpooled.directBuffer(2048);
            try {
                ErrnoException read = assertThrows(ErrnoException.class, () -> tun.io.read(tun.fd, buffer, 2048));
                buffer.writeBytes(Ipv4Udp.build(new byte[]{(byte) 192, 0, 2, 2}, 1, new byte[]{(byte) 192, 0, 2, 1}, 2, new byte[8]));
                ErrnoException write = assertThrows(ErrnoException.class, () -> tun.io.write(tun.fd, buffer));
                System.out.println("after ip link del: " + read.getMessage() + "; " + write.getMessage());
                assertEquals(Errno.EBADFD, read.errno(), read.getMessage());
                assertEquals(Errno.EBADFD, write.errno(), write.getMessage());
                assertTrue(read.getMessage().contains("gone"), read.getMessage());
            } finally {
                buffer.release();
            }
        }
    }

    @Test
    void epollReportsTheDeletionOnceAsReadableAndTheReadFails() throws Exception {
        MultiThreadIoEventLoopGroup group = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
        try (TunFd tun = TunFd.attach("del%d", IFF_TUN | IFF_NO_PI)) {
            TunReadiness readiness = tun.io.readiness();
            IoEventLoop loop = group.next();
            assertTrue(readiness.isCompatible(loop));
            AtomicInteger events = new AtomicInteger();
            CompletableFuture<ErrnoException> failure = new CompletableFuture<>();
            IoHandle target = new IoHandle() {
                @Override
                public void handle(IoRegistration registration, IoEvent event) {
                    events.incrementAndGet();
                    if (!readiness.isReadable(event)) {
                        return;
                    }
                    ByteBuf buffer = Unpooled.directBuffer(2048);
                    try {
                        tun.io.read(tun.fd, buffer, 2048);
                    } catch (ErrnoException e) {
                        if (!e.isWouldBlock()) {
                            // As a channel does: an error read ends the registration.
                            registration.cancel();
                            failure.complete(e);
                        }
                    } finally {
                        buffer.release();
                    }
                }

                @Override
                public void close() {
                }
            };
            IoRegistration registration = loop.register(readiness.handle(tun.fd, target)).get(5, TimeUnit.SECONDS);
            loop.submit(() -> registration.submit(readiness.ops(true, false))).get(5, TimeUnit.SECONDS);

            Commands.ip("link", "del", "dev", tun.name);
            ErrnoException e = failure.get(5, TimeUnit.SECONDS);
            assertEquals(Errno.EBADFD, e.errno(), e.getMessage());
            Thread.sleep(200); // would an fd left in epoll keep firing?
            assertEquals(1, events.get(), "events after the failed read");
            assertTrue(!registration.isValid());
        } finally {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
        }
    }
}
