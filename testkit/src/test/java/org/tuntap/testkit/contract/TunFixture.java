package org.tuntap.testkit.contract;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.EventLoopGroup;
import org.tuntap.testkit.UdpReceiver;
import org.tuntap.testkit.nativeio.NativeDevices;
import org.tuntap.transport.TunAddress;
import org.tuntap.transport.TunChannel;
import org.tuntap.transport.TunChannelOption;
import org.tuntap.transport.TunMode;

import java.net.Inet4Address;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * One fd layer as the contract tests see it (like the transport fixtures of Netty's testsuite):
 * it makes bound {@link TunChannel}s on its own loop, and plays the other side of the device, the
 * kernel, with UDP: {@link #inject} sends a datagram toward the channel, {@link #receive} takes
 * one the channel wrote. Channels are TUN without packet information unless a test says otherwise.
 */
public abstract class TunFixture {
    /** The kernel's side of the tunnel. */
    public static final Inet4Address KERNEL_HOST = NativeDevices.KERNEL;
    /** Where injected datagrams go: the application's address and port behind the channel. */
    public static final InetSocketAddress APP = new InetSocketAddress(NativeDevices.APP, 7);
    /** How long a fixture waits for something that should happen. */
    public static final long TIMEOUT_SECONDS = 5;

    private final List<TunChannel> channels = new ArrayList<>();

    /** The loop group this layer's channels run on. */
    protected abstract EventLoopGroup group();

    /** A channel factory for this layer. */
    protected abstract Bootstrap channelFactory(Bootstrap bootstrap);

    /** A bootstrap on this layer's loop for TUN channels without packet information. */
    public final Bootstrap bootstrap() {
        return channelFactory(new Bootstrap().group(group()))
                .option(TunChannelOption.MODE, TunMode.TUN)
                .option(TunChannelOption.PACKET_INFO, false);
    }

    /** Binds to {@code name} and waits; the channel is closed by {@link #close}. */
    public final TunChannel bind(Bootstrap bootstrap, String name) throws InterruptedException {
        TunChannel channel = (TunChannel) bootstrap.bind(new TunAddress(name)).sync().channel();
        channels.add(channel);
        return channel;
    }

    /** {@link #bind} and {@link #connect}: a channel the kernel side can reach. */
    public final TunChannel bindConnected(Bootstrap bootstrap, String name) throws Exception {
        TunChannel channel = bind(bootstrap, name);
        connect(channel);
        return channel;
    }

    /**
     * Joins the bound channel's device to the kernel side: from now on {@link #inject} reaches
     * it and {@link #receive} sees what it writes. One connected channel per fixture.
     */
    public abstract void connect(TunChannel channel) throws Exception;

    /** The address the kernel side sends from and receives on (valid after {@link #connect}). */
    public abstract InetSocketAddress kernelAddress();

    /** Sends a UDP datagram from {@link #kernelAddress()} to {@link #APP}, through the device. */
    public abstract void inject(byte[] payload) throws Exception;

    /**
     * The next UDP datagram the channel wrote to {@link #kernelAddress()}, waiting up to
     * {@link #TIMEOUT_SECONDS}; null when none came.
     */
    public abstract UdpReceiver.Datagram receive() throws Exception;

    /** Whether {@code fd} is still an open device fd of this layer. */
    public abstract boolean isDeviceFdOpen(int fd) throws Exception;

    /** Closes the channels, then whatever the layer holds, then the loop. */
    public void close() throws Exception {
        for (TunChannel channel : channels) {
            channel.close().await(TIMEOUT_SECONDS, TimeUnit.SECONDS);
        }
        closeLayer();
        group().shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
    }

    /** Releases what the layer opened besides the channels (sockets). */
    protected void closeLayer() throws Exception {
    }
}
