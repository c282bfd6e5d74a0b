package org.tuntap.testkit.contract;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.EpollIoHandler;
import org.tuntap.testkit.UdpReceiver;
import org.tuntap.testkit.nativeio.NativeDevices;
import org.tuntap.testkit.nativeio.Netns;
import org.tuntap.transport.TunChannel;
import org.tuntap.transport.linux.LinuxTun;
import org.tuntap.transport.spi.TunIoctl;

import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.Arrays;

/**
 * The contract on the native layer: {@code /dev/net/tun} on Netty's epoll loop, inside the test
 * network namespace. The kernel side is an ordinary UDP socket on the device's address.
 */
final class NativeTunFixture extends TunFixture {
    private final EventLoopGroup group;
    private DatagramSocket socket;

    NativeTunFixture() {
        Netns.require();
        group = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
    }

    @Override
    protected EventLoopGroup group() {
        return group;
    }

    @Override
    protected Bootstrap channelFactory(Bootstrap bootstrap) {
        return bootstrap.channelFactory(TunChannel.factory(LinuxTun.ioSystem()));
    }

    @Override
    public void connect(TunChannel channel) throws Exception {
        NativeDevices.connect(channel);
        socket = new DatagramSocket(new InetSocketAddress(KERNEL_HOST, 0));
        socket.setSoTimeout((int) (TIMEOUT_SECONDS * 1000));
    }

    @Override
    public InetSocketAddress kernelAddress() {
        return (InetSocketAddress) socket.getLocalSocketAddress();
    }

    @Override
    public void inject(byte[] payload) throws Exception {
        socket.send(new DatagramPacket(payload, payload.length, APP));
    }

    @Override
    public UdpReceiver.Datagram receive() throws Exception {
        DatagramPacket packet = new DatagramPacket(new byte[65536], 65536);
        try {
            socket.receive(packet);
        } catch (SocketTimeoutException none) {
            return null;
        }
        return new UdpReceiver.Datagram(Arrays.copyOf(packet.getData(), packet.getLength()),
                (InetSocketAddress) packet.getSocketAddress());
    }

    /** The fd is open on /dev/net/tun in this process (a closed fd has no /proc entry). */
    @Override
    public boolean isDeviceFdOpen(int fd) throws Exception {
        Path link = Paths.get("/proc/self/fd", Integer.toString(fd));
        try {
            return Files.readSymbolicLink(link).toString().equals(TunIoctl.DEVICE_PATH);
        } catch (java.nio.file.NoSuchFileException closed) {
            return false;
        }
    }

    @Override
    protected void closeLayer() {
        if (socket != null) {
            socket.close();
        }
    }
}
