package org.tuntap.testkit.contract;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import org.tuntap.testkit.MemoryIoHandler;
import org.tuntap.testkit.MemoryIoSystem;
import org.tuntap.testkit.Tunnel;
import org.tuntap.testkit.UdpReceiver;
import org.tuntap.transport.TunChannel;

import java.net.InetSocketAddress;
import java.util.NoSuchElementException;
import java.util.concurrent.TimeUnit;

/**
 * The contract on the in-memory layer: {@link MemoryIoSystem} on a threaded
 * {@link MemoryIoHandler} loop. The kernel side is Twisted-style {@code sendUdp}/{@code receiveUdp};
 * {@link #receive} blocks on the tunnel's {@link Tunnel#awaitWritten} instead of polling.
 */
final class MemoryTunFixture extends TunFixture {
    private static final InetSocketAddress KERNEL = new InetSocketAddress(KERNEL_HOST, 40000);

    private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, MemoryIoHandler.newFactory());
    private final MemoryIoSystem system = new MemoryIoSystem();
    private UdpReceiver receiver;
    private Tunnel tunnel;

    @Override
    protected EventLoopGroup group() {
        return group;
    }

    @Override
    protected Bootstrap channelFactory(Bootstrap bootstrap) {
        return bootstrap.channelFactory(TunChannel.factory(system));
    }

    @Override
    public void connect(TunChannel channel) {
        receiver = system.receiveUdp(channel.fd(), KERNEL.getAddress(), KERNEL.getPort());
        tunnel = system.tunnel(channel.fd());
    }

    @Override
    public InetSocketAddress kernelAddress() {
        return KERNEL;
    }

    @Override
    public void inject(byte[] payload) {
        system.sendUdp(payload, KERNEL, APP);
    }

    @Override
    public UdpReceiver.Datagram receive() throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(TIMEOUT_SECONDS);
        for (;;) {
            long seen = tunnel.writtenCount(); // before looking, so a write after the look is not missed
            try {
                return receiver.recvFrom(Integer.MAX_VALUE);
            } catch (NoSuchElementException nothingYet) {
                if (!tunnel.awaitWritten(seen + 1, deadline - System.nanoTime(), TimeUnit.NANOSECONDS)) {
                    return null;
                }
            }
        }
    }

    @Override
    public boolean isDeviceFdOpen(int fd) {
        return system.isOpen(fd);
    }
}
