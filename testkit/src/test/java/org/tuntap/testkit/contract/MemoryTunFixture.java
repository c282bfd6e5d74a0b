package org.tuntap.testkit.contract;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import org.tuntap.testkit.MemoryIoHandler;
import org.tuntap.testkit.MemoryIoSystem;
import org.tuntap.testkit.Tunnel;
import org.tuntap.testkit.UdpReceiver;
import org.tuntap.transport.TunChannel;
import org.tuntap.transport.spi.ErrnoException;
import org.tuntap.transport.spi.TunIoctl;

import java.net.InetSocketAddress;
import java.util.NoSuchElementException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

/**
 * The contract on the in-memory layer: {@link MemoryIoSystem} on a threaded
 * {@link MemoryIoHandler} loop. The kernel side is Twisted-style {@code sendUdp}/{@code receiveUdp};
 * the tunnels signal every write so {@link #receive} waits for an event instead of polling.
 */
final class MemoryTunFixture extends TunFixture {
    private static final InetSocketAddress KERNEL = new InetSocketAddress(KERNEL_HOST, 40000);

    private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, MemoryIoHandler.newFactory());
    private final MemoryIoSystem system = new MemoryIoSystem();
    /** One permit per packet the channel wrote to any tunnel of this system. */
    private final Semaphore writes = new Semaphore(0);
    private UdpReceiver receiver;

    MemoryTunFixture() {
        system.registerSpecialDevice(TunIoctl.DEVICE_PATH, (owner, flags) -> new SignallingTunnel(owner, flags));
    }

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
            try {
                return receiver.recvFrom(Integer.MAX_VALUE);
            } catch (NoSuchElementException nothingYet) {
                // A write since the last look leaves a permit, so none is missed.
                if (!writes.tryAcquire(deadline - System.nanoTime(), TimeUnit.NANOSECONDS)) {
                    return null;
                }
            }
        }
    }

    @Override
    public boolean isDeviceFdOpen(int fd) {
        return system.isOpen(fd);
    }

    /** The in-memory tunnel, telling the fixture about every packet written to it. */
    private final class SignallingTunnel extends Tunnel {
        SignallingTunnel(MemoryIoSystem owner, int openFlags) {
            super(owner, openFlags);
        }

        @Override
        public int write(ByteBuf source) throws ErrnoException {
            int written = super.write(source);
            writes.release();
            return written;
        }
    }
}
