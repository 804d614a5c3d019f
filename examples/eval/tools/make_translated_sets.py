# ruff: noqa: E501  (translation tables: one question per line)
"""Build the Indonesian and Spanish question sets from the English ones and the translations below.

Run from the repository root: python examples/eval/tools/make_translated_sets.py
Each translated question keeps the English question's id (with a language suffix), gold articles
and facts; each fact gains the renderings a correct answer in that language may use (the English
alternatives stay: menu paths, product names and the sources' own sentences may be quoted as written).
"""

from __future__ import annotations

import json
from pathlib import Path

# fmt: off
# id: (question, [extra alternatives per fact])
ID = {
"sl-001": ("panggilan zoom saya sering macet beberapa detik dan di layar utama aplikasi tertulis Obstructed 3%. gimana cara memperbaikinya??", [["visibilitas"], ["tinggi", "naikkan", "menaikkan"]]),
"sl-002": ("Ada pohon ek besar di belakang rumah yang tingginya kira-kira 10 meter di atas posisi piringan. Seberapa jauh piringan harus saya pasang dari pohon itu?", [["15 meter"]]),
"sl-003": ("Mana yang bisa melihat langit lebih luas, Mini atau piringan Standard biasa?", [[], []]),
"sl-004": ("Baru saja saya colokkan piringan baru dan sudah sekitar 10 menit dia miring dan berputar sendiri. Apakah rusak?", [["15 menit", "lima belas menit"]]),
"sl-005": ("apa pasword wifi untuk jaringan STARLINK waktu pertama kali disetel?", [["tanpa kata sandi", "tidak ada kata sandi", "tanpa password", "tidak ada password", "tidak memiliki kata sandi"], ["8 karakter", "delapan karakter"]]),
"sl-006": ("Bagaimana cara mengetahui router saya Gen 2 atau Gen 3?", [["port lan"]]),
"sl-007": ("Bisakah Mini saya dijalankan dengan charger USB-C 65W laptop? mau hemat tempat di van", [[], ["daya tidak cukup", "daya kurang", "tidak cukup daya", "menyala ulang", "restart"]]),
"sl-008": ("mini nggak punya motor kan? terus gimana cara mengarahkannya", [["arahkan mini", "mengarahkan mini"], ["hijau"]]),
"sl-009": ("Saya mengundang suami saya sebagai pengguna di aplikasi Starlink. Apakah dia bisa melihat tagihan kami?", [["tidak bisa melihat", "tidak dapat melihat", "tidak dapat mengakses", "tidak bisa mengakses", "tidak memiliki akses", "tidak punya akses"]]),
"sl-010": ("apa saja isi kotak mini kit?", [[], []]),
"sl-011": ("Lampu di router Gen 3 saya berkedip merah. Artinya apa?", [["reset pabrik", "sedang direset", "pengaturan ulang pabrik", "sedang reset"]]),
"sl-012": ("Seberapa dekat piringan boleh dipasang dari kabel listrik yang lewat di depan rumah?", [["3 meter", "tiga meter"]]),
"sl-013": ("Seberapa kencang angin sebelum kickstand standar perlu diberi karung pasir?", [["50 km/jam"]]),
"sl-014": ("Atap rumah saya curam. Dudukan mana yang harus saya beli, dan apakah bisa menahan kemiringannya?", [["dudukan pivot"], []]),
"sl-015": ("mata bor ukuran berapa yang saya perlukan untuk memasukkan kabel piringan lewat dinding luar?", [[]]),
"sl-016": ("Saya pasang piringan di tiang antena TV lama pakai adaptor pipa. Seberapa kencang bautnya dan seberapa tebal tiangnya boleh?", [[], []]),
"sl-017": ("Seberapa sering saya harus memasang klip kabel saat menariknya di sepanjang dinding?", [["setiap 50", "tiap 50"]]),
"sl-018": ("Malam ini diprediksi ada badai salju besar. Bisakah piringan dihangatkan dulu sebelum badainya datang?", [["pemanasan awal", "memanaskan"], ["pencairan salju", "melelehkan salju", "mencairkan salju"]]),
"sl-019": ("Apakah Mini Kit bisa melelehkan salju seperti piringan yang besar?", [["tidak memiliki", "tidak punya", "tidak ada fitur"], ["sikat"]]),
"sl-020": ("Aplikasi bilang Thermal shutdown dan internet mati. Suhu di luar 38 derajat. Kapan akan menyala lagi, haruskah saya cabut?", [["30 hingga 60", "30 sampai 60", "30 dan 60"]]),
"sl-021": ("Saya berencana memasang layar peneduh di atas piringan karena sering kepanasan di sore hari. Ide bagus?", [["menghalangi", "halangan", "terhalang"]]),
"sl-022": ("Kemarin piringan saya pindahkan ke atap. Bagaimana cara mengulang peta halangan dari awal, dan kapan peringatan Obstructed hilang?", [["reset peta halangan", "atur ulang peta halangan"], []]),
"sl-023": ("Saya ingin mesh TP-Link Deco saya sendiri yang menangani wifi, bukan router Starlink (gen 3). Bagaimana cara mengaturnya?", [[], []]),
"sl-024": ("Saya tidak sengaja menyalakan mode bypass dan tidak ada opsi di mana pun untuk mematikannya", [["reset pabrik", "pengaturan ulang pabrik"]]),
"sl-025": ("router gen 2 saya tidak punya colokan untuk xbox. apa yang harus saya beli supaya bisa pakai kabel?", [["adaptor ethernet", "adapter ethernet"]]),
"sl-026": ("Saya sudah memasang adaptor ethernet di router dan sekarang aplikasinya bilang Cable unplugged.", [["ketiga sambungan", "tiga sambungan", "pasang ulang", "ketiga koneksi", "tiga koneksi"], ["langsung"]]),
"sl-027": ("gimana cara rest pabrik router lama saya? tidak ada tombol resetnya", [["tiga kali", "3 kali"], ["keempat", "ke-4"]]),
"sl-028": ("Berapa lama saya harus menahan tombol reset di router Gen 3?", [["10 detik", "sepuluh detik"], ["merah"]]),
"sl-029": ("Setelah reset router Gen 3, lampunya sekarang menyala merah terus", [["tidak ada internet", "tanpa internet", "tidak ada koneksi internet"], ["kabel"]]),
"sl-030": ("Bisakah modem DSL lama saya dicolokkan ke LAN 2 supaya jadi koneksi internet cadangan?", [["keluaran"]]),
"sl-031": ("Berapa maksimal jumlah node mesh yang bisa saya tambahkan ke Router Gen 3?", [["3 node", "tiga", "hingga 3", "sampai 3", "4 router", "empat router"]]),
"sl-032": ("Router Gen 2 yang lama mendukung berapa node mesh, dan apakah bisa pakai backhaul kabel seperti Gen 3?", [["2 node", "dua", "hingga 2", "sampai 2", "3 router", "tiga router"], ["nirkabel"]]),
"sl-033": ("Saya pakai Mini di rumah tapi butuh beberapa port ethernet untuk PC saya. Ada pilihan apa?", [[], []]),
"sl-034": ("Saya beli colokan pintar yang hanya mendukung 2,4 GHz dan tidak mau tersambung ke jaringan Starlink", [["pisahkan", "memisahkan", "pisah"]]),
"sl-035": ("Bisakah router Gen 2 saya membuat jaringan tamu terpisah untuk tamu Airbnb?", [[]]),
"sl-036": ("Bagaimana cara membuka port di router starlink untuk server Minecraft saya?", [[], ["ipv4 publik"]]),
"sl-037": ("router gen 3 vs gen 2: masing-masing pakai standar wifi apa?", [[], []]),
"sl-038": ("Berapa harga Mini Kit-nya sendiri, dan berapa biaya Roam Unlimited per bulan?", [[], []]),
"sl-039": ("Kuota 50 giga di roam sudah habis dan sekarang lemot banget. Bisa beli data tambahan?", [["10 dolar", "us$10", "usd 10"], []]),
"sl-040": ("Apakah kalian membatasi kecepatan streaming atau aplikasi tertentu seperti Netflix?", [["prioritas"], ["padat", "kepadatan"]]),
"sl-041": ("Saya mau ke selatan selama musim dingin. Bisakah paket residensial saya dijeda, dan untuk berapa lama?", [["5 dolar", "us$5", "usd 5"], ["6 bulan", "enam bulan"]]),
"sl-042": ("opsi jeda tidak muncul sama sekali di aplikasi saya", [["tunggakan", "terlambat", "jatuh tempo", "belum dibayar", "menunggak"], []]),
"sl-043": ("Kartu saya ditolak. Berapa lama sampai internet saya diputus?", [["hari ke-8", "hari kedelapan", "hari ke 8"]]),
"sl-044": ("Saya sudah mengirim balik kit selama masa uji coba, berapa lama sampai uang saya kembali?", [["10 hari kerja", "sepuluh hari kerja"], ["gudang", "diterima", "menerima"]]),
"sl-045": ("kalau saya membatalkan di tengah bulan, apakah sisa bulannya dikembalikan?", [["tidak dikembalikan", "tidak ada pengembalian", "tidak dapat dikembalikan", "tidak bisa dikembalikan"], ["siklus tagihan", "periode tagihan", "tanggal tagihan", "siklus penagihan", "periode penagihan"]]),
"sl-046": ("Aplikasinya sudah bilang Searching sekitar 40 menit", [["peta cakupan", "peta jangkauan"], ["halangan", "terhalang", "menghalangi"]]),
"sl-047": ("Saya bawa piringan ke kabin untuk akhir pekan dan sekarang muncul E-601 dan lambat sekali", [["lokasi tak terduga", "alamat layanan", "lokasi yang tidak terduga"], []]),
"sl-048": ("Piringan menampilkan Motors stuck setelah malam yang sangat dingin.", [["pemanasan awal", "memanaskan"]]),
"sl-049": ("Peringatan Motors stuck terus muncul, padahal tidak membeku. Apa yang harus saya periksa?", [[], ["tegak", "vertikal", "pasang ulang"]]),
"sl-050": ("Internet tiba-tiba mati. Bagaimana cara mengecek apakah ada gangguan dari pihak kalian?", [["status layanan"], ["data seluler"]]),
"sl-051": ("Jaringan kami mengalami gangguan selama 3 hari 2 jam. Kami pakai paket Residential. Berapa kredit yang kami dapat?", [["12 dolar", "us$12", "usd 12"]]),
"sl-052": ("lampu router gen 3 sudah berkedip putih pelan sekitar setengah jam", [["20 menit", "dua puluh menit"], ["kabel"]]),
"sl-053": ("Bagaimana cara reset pabrik Mini Kit?", [["10 detik", "sepuluh detik", "mode lokal"]]),
"sl-054": ("Berapa kecepatan unduh yang seharusnya saya dapat di paket Residential dengan piringan standar?", [[]]),
"sl-055": ("Bulan depan saya pindah rumah. Apa yang harus saya lakukan dengan layanan Residential saya?", [["alamat layanan"], ["gratis", "tanpa biaya", "tidak dipungut biaya", "tidak dikenakan biaya"]]),
"sl-056": ("alamat baru tertulis Sold out waktu saya coba ganti. terus gimana", [["daftar tunggu"], []]),
"sl-057": ("Bulan depan kami akan berlayar sekitar 30 mil laut dari pantai. Paket apa yang kami perlukan?", [["maritim"], []]),
"sl-058": ("Bisakah piringan standar dipakai di kapal saat sedang berlayar?", [["tertambat", "berlabuh", "ditambatkan", "bersandar", "tambat"]]),
"sl-059": ("seberapa cepat saya boleh menyetir dengan mini di rak atap dan internet tetap jalan", [["130 km/jam"]]),
"sl-060": ("Mau ke Meksiko selama 3 bulan pakai Roam. Ada masalah?", [["2 bulan", "dua bulan"], ["negara asal", "negara tempat tinggal", "negara domisili"]]),
}
ES = {
"sl-001": ("mis videollamadas de zoom se congelan unos segundos cada tanto y la pantalla de inicio de la app dice Obstructed 3%. ¿cómo lo arreglo??", [["visibilidad"], ["elevar", "más alto", "altura", "subir", "elevarla"]]),
"sl-002": ("Hay un roble grande detrás de la casa que se eleva unos 10 metros por encima de donde iría la antena. ¿A qué distancia debo poner la antena?", [["15 metros", "quince metros"]]),
"sl-003": ("¿Cuál ve más cielo, la Mini o la antena Standard normal?", [[], []]),
"sl-004": ("Acabo de enchufar la antena nueva y lleva unos 10 minutos inclinándose y girando sola. ¿Está rota?", [["15 minutos", "quince minutos"]]),
"sl-005": ("¿cual es la contraseña del wifi de la red STARLINK cuando lo configuras por primera vez?", [["sin contraseña", "no tiene contraseña", "no hay contraseña", "ninguna contraseña"], ["8 caracteres", "ocho caracteres"]]),
"sl-006": ("¿Cómo sé si tengo el router Gen 2 o el Gen 3?", [["puertos lan"]]),
"sl-007": ("¿Puedo alimentar mi Mini con el cargador USB-C de 65W de mi portátil? intento ahorrar espacio en la furgoneta", [[], ["potencia insuficiente", "reinicia", "reiniciar", "reinicios"]]),
"sl-008": ("la mini no tiene motores, ¿verdad? entonces ¿cómo se supone que la apunto?", [["apunta tu mini", "apunta la mini", "apuntar la mini", "orienta la mini", "orientar la mini", "apuntar tu mini"], ["verde"]]),
"sl-009": ("Invité a mi esposo como usuario en la app de Starlink. ¿Podrá ver nuestras facturas?", [["no puede ver", "no podrá ver", "no pueden ver", "sin acceso", "no tiene acceso", "no tendrá acceso", "no pueden acceder", "no puede acceder"]]),
"sl-010": ("¿qué viene exactamente en la caja del mini kit?", [[], []]),
"sl-011": ("La luz de mi router Gen 3 parpadea en rojo. ¿Qué significa?", [["restablecimiento de fábrica", "restableciendo", "restablecimiento en curso", "reinicio de fábrica", "restablecer de fábrica"]]),
"sl-012": ("¿A qué distancia de la línea eléctrica que pasa frente a la casa puedo poner la antena?", [["3 metros", "tres metros"]]),
"sl-013": ("¿Con cuánto viento hace falta poner sacos de arena en el soporte estándar?", [[]]),
"sl-014": ("Tengo un tejado muy inclinado. ¿Qué soporte debo comprar y aguantará esa inclinación?", [["soporte pivotante", "montaje pivotante"], []]),
"sl-015": ("¿de qué tamaño tiene que ser la broca para pasar el cable de la antena por la pared exterior?", [[]]),
"sl-016": ("Voy a poner la antena en un mástil viejo de antena de TV con el adaptador de tubo. ¿Cuánto se aprietan los pernos y qué grosor puede tener el tubo?", [[], []]),
"sl-017": ("¿Cada cuánto debo poner una grapa al cable cuando lo paso por la pared?", [["cada 50"]]),
"sl-018": ("Pronostican una gran tormenta de nieve esta noche. ¿Puedo calentar la antena antes de que llegue?", [["precalentar", "precalentamiento", "precaliente"], ["derretir nieve", "derretir la nieve", "fusión de nieve", "derretimiento de nieve"]]),
"sl-019": ("¿El Mini Kit derrite la nieve como lo hace la antena grande?", [["no tiene", "no dispone", "no cuenta con"], ["cepillo", "escoba"]]),
"sl-020": ("La app dice Thermal shutdown y no hay internet. Hace 38 grados afuera. ¿Cuándo volverá? ¿Debo desenchufarla?", [["30 a 60", "30 y 60"]]),
"sl-021": ("Estoy pensando en poner un toldo sobre la antena porque se sobrecalienta por las tardes. ¿Buena idea?", [["obstru"]]),
"sl-022": ("Ayer subí la antena al tejado. ¿Cómo hago que el mapa de obstrucciones empiece de cero y cuándo desaparece el aviso Obstructed?", [["restablecer el mapa de obstrucciones", "reiniciar el mapa de obstrucciones", "restablece el mapa de obstrucciones"], []]),
"sl-023": ("Quiero que mi malla TP-Link Deco haga el wifi en lugar del router de Starlink (gen 3). ¿Cómo lo configuro?", [[], []]),
"sl-024": ("Activé el modo bypass sin querer y no hay ninguna opción para desactivarlo", [["restablecimiento de fábrica", "restablecer de fábrica", "restablecerlo de fábrica", "reinicio de fábrica"]]),
"sl-025": ("mi router gen 2 no tiene dónde enchufar la xbox. ¿qué necesito para conectarla por cable?", [["adaptador ethernet", "adaptador de ethernet"]]),
"sl-026": ("Instalé el adaptador ethernet en el router y ahora la app dice Cable unplugged.", [["tres conexiones", "las tres"], ["directamente"]]),
"sl-027": ("¿cómo hago un reseteo de fabrica a mi router viejo? no tiene botón de reset", [["tres veces", "3 veces"], ["cuarta", "4ª", "cuarto"]]),
"sl-028": ("¿Cuánto tiempo tengo que mantener pulsado el botón de reset del router Gen 3?", [["10 segundos", "diez segundos"], ["rojo"]]),
"sl-029": ("Hice un reset a mi router Gen 3 y ahora la luz se queda en rojo fijo", [["sin internet", "no hay internet", "sin conexión a internet"], []]),
"sl-030": ("¿Puedo conectar mi viejo módem DSL al LAN 2 para usarlo como conexión de respaldo?", [["salida"]]),
"sl-031": ("¿Cuál es el número máximo de nodos mesh que puedo añadir al Router Gen 3?", [["3 nodos", "tres", "hasta 3", "4 routers", "cuatro routers"]]),
"sl-032": ("¿Cuántos nodos mesh admite un Router Gen 2 más antiguo, y pueden usar backhaul por cable como el Gen 3?", [["2 nodos", "dos", "hasta 2", "3 routers", "tres routers"], ["inalámbric"]]),
"sl-033": ("Uso la Mini en casa pero necesito un par de puertos ethernet para mi PC de escritorio. ¿Opciones?", [[], []]),
"sl-034": ("Compré unos enchufes inteligentes que solo funcionan en 2,4 GHz y no se conectan a mi red Starlink", [["separar", "dividir", "separa"]]),
"sl-035": ("¿Puede mi router Gen 2 crear una red de invitados aparte para los huéspedes de Airbnb?", [[]]),
"sl-036": ("¿Cómo abro un puerto en el router de starlink para mi servidor de Minecraft?", [[], ["ipv4 pública"]]),
"sl-037": ("router gen 3 vs gen 2: ¿qué estándar wifi usa cada uno?", [[], []]),
"sl-038": ("¿Cuánto cuesta el Mini Kit en sí, y cuánto es Roam Unlimited al mes?", [[], []]),
"sl-039": ("Ya gasté mis 50 gigas de roam y ahora va lentísimo. ¿Puedo comprar más datos?", [["10 dólares", "10 usd", "us$10"], []]),
"sl-040": ("¿Ustedes limitan el streaming o aplicaciones concretas como Netflix?", [["prioridad"], []]),
"sl-041": ("Me voy al sur durante el invierno. ¿Puedo pausar mi plan residencial, y por cuánto tiempo?", [["5 dólares", "5 usd", "us$5"], ["6 meses", "seis meses"]]),
"sl-042": ("la opción de pausa no aparece para nada en mi app", [["vencid", "atrasad", "pendiente", "impag"], []]),
"sl-043": ("Me rechazaron la tarjeta. ¿Cuánto tiempo falta para que me corten el internet?", [["día 8", "octavo día"]]),
"sl-044": ("Devolví el kit durante el periodo de prueba, ¿cuánto tardo en recibir mi dinero?", [["10 días hábiles", "diez días hábiles"], ["almacén", "recib", "bodega"]]),
"sl-045": ("si cancelo a mitad de mes, ¿me devuelven el resto del mes?", [["no se reembolsa", "no se devuelve", "sin reembolso", "no hay reembolso", "no es reembolsable", "no reembolsable", "no se reembolsan"], ["ciclo de facturación", "fecha de facturación", "periodo de facturación", "período de facturación"]]),
"sl-046": ("La app lleva como 40 minutos diciendo Searching", [["mapa de cobertura"], ["obstru"]]),
"sl-047": ("Llevé la antena a nuestra cabaña el fin de semana y ahora dice E-601 y va lentísimo", [["ubicación inesperada", "dirección de servicio"], []]),
"sl-048": ("La antena muestra Motors stuck después de una noche helada.", [["precalentar", "precalentamiento", "precaliente"]]),
"sl-049": ("Me sigue saliendo la alerta Motors stuck y no está congelada. ¿Qué reviso?", [[], ["vertical", "reconectar", "reconecta"]]),
"sl-050": ("Se acaba de caer el internet. ¿Cómo sé si es una interrupción de su lado?", [["estado del servicio"], ["datos móviles"]]),
"sl-051": ("Tuvimos una interrupción de la red que duró 3 días y 2 horas. Estamos en Residential. ¿Cuánto crédito nos toca?", [["12 dólares", "12 usd", "us$12"]]),
"sl-052": ("la luz del router gen 3 lleva como media hora palpitando en blanco", [["20 minutos", "veinte minutos"], []]),
"sl-053": ("¿Cómo restablezco de fábrica el Mini Kit?", [["10 segundos", "diez segundos", "modo local"]]),
"sl-054": ("¿Qué velocidad de descarga debería tener en Residential con la antena estándar?", [[]]),
"sl-055": ("Me mudo el mes que viene. ¿Qué tengo que hacer con mi servicio Residential?", [["dirección de servicio"], ["gratis", "sin costo", "sin coste", "sin cargo", "gratuito"]]),
"sl-056": ("la nueva dirección aparece como Sold out cuando intento cambiarla. ¿y ahora qué?", [["lista de espera"], []]),
"sl-057": ("El mes que viene navegaremos a unas 30 millas náuticas de la costa. ¿Qué plan necesitamos?", [["marítimo"], []]),
"sl-058": ("¿Puedo usar la antena estándar en el barco mientras navegamos?", [["amarrad", "fondead", "atracad"]]),
"sl-059": ("a qué velocidad puedo manejar con la mini en la baca del coche sin perder internet", [[]]),
"sl-060": ("Me voy a México 3 meses con Roam. ¿Algún problema?", [["2 meses", "dos meses"], ["país de residencia", "país de origen"]]),
}
OP_ID = {
"op-001": ("Butuh berapa orang untuk mengeluarkan robot dari petinya?", [["dua orang dewasa", "2 orang dewasa", "dua orang", "2 orang"]]),
"op-003": ("Berapa lama Home Tour berlangsung dan bagaimana cara memulainya?", [["15 hingga 30", "15 sampai 30"], ["ikuti saya"]]),
"op-006": ("berapa lama pengisian penuh di dok?", [["3 jam 30", "3,5 jam", "tiga setengah jam"]]),
"op-008": ("Kami akan pergi selama sebulan. Bagaimana sebaiknya robot ditinggalkan?", [["50 hingga 60", "50 sampai 60"], ["penyimpanan jangka panjang"]]),
"op-010": ("Kalau saya pakai Portable Charging Cable dan bukan dok, berapa lama pengisian penuhnya?", [["9 jam", "sembilan jam"]]),
"op-011": ("Saya menekan tombol merah besar di punggungnya. Bagaimana cara menjalankannya lagi?", [["putar", "searah jarum jam"], ["2 detik", "dua detik"]]),
"op-012": ("Seberapa dekat robot dengan orang saat berjalan melewati mereka?", [["0,5 m", "0,5 meter", "50 cm"]]),
"op-014": ("Bisakah Optimus menjaga anak saya yang berumur 5 tahun selagi saya ke toko sebentar?", [["pengasuh", "tidak mengawasi", "bukan pengasuh"], ["di bawah 8", "8 tahun"]]),
"op-016": ("Bisakah Optimus membawakan saya secangkir kopi panas dari dapur?", [["60 derajat", "60 °c", "60°c"]]),
"op-019": ("optimus mengerti bahasa apa saja?", [["spanyol"], ["prancis", "perancis"], ["jerman"]]),
"op-022": ("seberapa sering sol kaki harus diganti", [["12 bulan", "dua belas bulan", "setahun", "setiap tahun", "per tahun"], []]),
"op-023": ("Kapan pembaruan firmware dipasang? Saya tidak mau itu terjadi saat saya butuh robotnya", [["pukul 2", "jam 2"], []]),
"op-025": ("Bisakah saya menunda pembaruan keamanan selama sebulan?", [["7 hari", "tujuh hari"]]),
"op-028": ("Bisakah optimus membawa karung makanan anjing 10 kg saya ke lantai atas?", [[]]),
"op-029": ("Bisakah robot mendorong sofa supaya saya bisa menyedot debu di bawahnya? beratnya sekitar 50 kg", [[]]),
"op-030": ("Anak tangga kami tingginya 22 cm. Apakah robot bisa menaikinya?", [[]]),
"op-032": ("Berapa lama kalian menyimpan rekaman suara saya?", [["30 hari", "tiga puluh hari"]]),
"op-035": ("Bisakah saya mengendalikan robot sendiri dari aplikasi? Seberapa cepat jalannya?", [["0,5 m/s", "0,5 meter per detik"]]),
"op-038": ("berapa lama garansi optimus, dan apakah baterainya juga dijamin selama itu?", [["2 tahun", "dua tahun"], ["4 tahun", "empat tahun"]]),
"op-040": ("Berapa lama perbaikan garansi, dan apakah saya dapat robot pinjaman selama itu?", [["10 hari kerja", "sepuluh hari kerja"], ["pinjam"]]),
}
OP_ES = {
"op-001": ("¿Cuántas personas necesito para sacar el robot de su caja?", [["dos adultos", "2 adultos", "dos personas", "2 personas"]]),
"op-003": ("¿Cuánto dura el Home Tour y cómo lo inicio?", [["15 a 30", "15 y 30"], ["sígueme"]]),
"op-006": ("¿cuánto tarda una carga completa en la base?", [["3 horas 30", "3,5 horas", "tres horas y media", "3 horas y media"]]),
"op-008": ("Nos vamos un mes de viaje. ¿Cómo debo dejar el robot?", [["50 a 60", "50 y 60"], ["almacenamiento prolongado", "almacenamiento a largo plazo"]]),
"op-010": ("Si uso el Portable Charging Cable en vez de la base, ¿cuánto tarda una carga completa?", [["9 horas", "nueve horas"]]),
"op-011": ("Pulsé el botón rojo grande de su espalda. ¿Cómo lo pongo en marcha otra vez?", [["gira", "girar", "sentido de las agujas del reloj", "sentido horario"], ["2 segundos", "dos segundos"]]),
"op-012": ("¿A qué distancia se acerca el robot a las personas cuando pasa junto a ellas?", [["0,5 m", "0,5 metros", "50 cm"]]),
"op-014": ("¿Puede Optimus vigilar a mi hijo de 5 años mientras salgo a la tienda?", [["niñera", "no vigila", "no es un cuidador", "no supervisa"], ["menores de 8", "8 años"]]),
"op-016": ("¿Puede Optimus traerme una taza de café recién hecho desde la cocina?", [["60 grados", "60 °c", "60°c"]]),
"op-019": ("¿qué idiomas entiende optimus?", [["español"], ["francés"], ["alemán"]]),
"op-022": ("cada cuánto hay que cambiar las suelas de los pies", [["12 meses", "doce meses", "un año", "cada año", "al año"], []]),
"op-023": ("¿Cuándo se instalan las actualizaciones de firmware? No quiero que pase mientras necesito el robot", [["2 de la mañana", "2 a. m.", "2 a.m."], []]),
"op-025": ("¿Puedo aplazar una actualización de seguridad un mes?", [["7 días", "siete días"]]),
"op-028": ("¿Puede optimus subir mi bolsa de 10 kg de comida para perros al piso de arriba?", [[]]),
"op-029": ("¿Puede empujar el sofá para que yo aspire debajo? pesa unos 50 kg", [[]]),
"op-030": ("Nuestros escalones miden 22 cm de alto. ¿Podrá subirlos el robot?", [[]]),
"op-032": ("¿Cuánto tiempo guardan mis grabaciones de voz?", [["30 días", "treinta días"]]),
"op-035": ("¿Puedo manejar el robot yo mismo desde la app? ¿A qué velocidad va?", [["0,5 m/s", "0,5 metros por segundo"]]),
"op-038": ("¿cuánto dura la garantía de optimus, y la batería está cubierta el mismo tiempo?", [["2 años", "dos años"], ["4 años", "cuatro años"]]),
"op-040": ("¿Cuánto tarda una reparación en garantía, y me dan un robot de préstamo mientras tanto?", [["10 días hábiles", "diez días hábiles"], ["préstamo", "prestad"]]),
}
OFF_ID = {
"off-001": "Berapa biaya paket Starlink Business per bulan?",
"off-002": "Apakah ada diskon pelajar untuk paket Residential?",
"off-003": "Berapa harga paket Maritime 5 TB?",
"off-004": "Apakah ada pilihan Roam 10 GB yang lebih murah, sekitar $25 sebulan?",
"off-005": "Bisakah saya menyewa Standard Kit bulanan daripada membelinya?",
"off-006": "Apakah veteran mendapat diskon layanan Starlink?",
"off-007": "Apakah ada paket keluarga yang mencakup dua rumah dalam satu langganan?",
"off-008": "Berapa harga kabel piringan 45 m (150 ft)?",
"off-009": "Berapa harga Ethernet Adapter untuk Router Gen 2?",
"off-010": "berapa harga Mini Vehicle Mount?",
"off-011": "Berapa biaya satu node mesh Router Gen 3 tambahan?",
"off-012": "Apakah kalian menjual paket panel surya yang cukup untuk menyalakan Mini seharian?",
"off-013": "Apakah kalian menyediakan jasa pemasangan profesional, dan berapa biaya teknisinya?",
"off-014": "Bisakah router Starlink dikendalikan dari Apple HomeKit atau Alexa?",
"off-015": "Bagaimana cara menyalakan WPS di router Starlink supaya printer saya bisa tersambung dengan menekan tombol?",
"off-016": "Apakah Starlink dilengkapi saluran telepon rumah (VoIP) yang bisa dicolokkan ke pesawat telepon?",
"off-017": "Apakah ada program referensi? Apakah saya dapat gratis sebulan kalau teman saya berlangganan?",
"off-018": "Apakah paketnya termasuk layanan streaming TV seperti Netflix atau Disney+?",
"off-019": "Bagaimana cara reset pabrik unit satelit Netgear Orbi saya?",
"off-020": "Apakah HughesNet atau Viasat lebih murah dari Starlink Residential?",
"off-021": "Gateway internet rumah 5G T-Mobile saya sering putus. Bagaimana cara memperbaikinya?",
"off-022": "Pada ketinggian berapa satelit Starlink mengorbit di atas Bumi?",
"off-023": "Kenapa internet satelit geostasioner punya latensi jauh lebih tinggi daripada orbit rendah Bumi?",
"off-024": "Apakah badai matahari geomagnetik bisa mematikan internet satelit saya?",
"off-025": "Apakah piringan pengganti saya sudah dikirim? Nomor tiket saya 4471-22.",
"off-026": "Kenapa tiket dukungan saya dari Selasa lalu ditutup tanpa balasan?",
"off-027": "Saya di urutan ke berapa di daftar tunggu Residential untuk alamat baru saya?",
"off-028": "Berapa harga Optimus Gen 1?",
"off-029": "Berapa harga satu set bantalan ujung jari pengganti?",
"off-030": "Berapa harga Portable Charging Cable?",
"off-031": "Berapa tinggi Optimus Gen 1?",
"off-032": "Berapa voltase baterai robot ini?",
"off-033": "Berapa derajat kebebasan yang dimiliki setiap tangan Optimus?",
"off-034": "Seberapa bising Optimus saat berjalan, dalam desibel?",
"off-035": "Bisakah Optimus menyiram tanaman saya setiap pagi?",
"off-036": "Apakah Optimus bisa bermain catur dengan anak laki-laki saya?",
"off-037": "Bisakah Optimus merapikan tempat tidur di pagi hari?",
"off-038": "Apakah Optimus dijual di Australia?",
"off-039": "Bisakah Optimus ikut rutinitas Alexa atau Google Home saya?",
"off-040": "Bisakah Optimus memutar Spotify lewat speakernya?",
"off-041": "Bisakah saya tukar tambah robot vakum lama saya untuk potongan harga Optimus?",
"off-042": "Apakah ada langganan bulanan untuk fitur cloud Optimus, dan berapa biayanya?",
"off-043": "Bisakah saya menyewa Optimus daripada membelinya langsung?",
"off-044": "Kapan Optimus Gen 2 keluar dan apa saja tambahannya?",
"off-045": "Bagaimana supaya Roomba saya bisa menemukan Home Base-nya lagi setelah saya pindahkan?",
"off-046": "Bagaimana cara memperbarui firmware Boston Dynamics Spot?",
"off-047": "Apa bedanya robot humanoid dengan cobot industri?",
"off-048": "Siapa yang membuat robot humanoid pertama?",
"off-049": "Apakah klaim garansi saya untuk aktuator lutut kiri sudah disetujui?",
"off-050": "Jam berapa teknisi datang untuk kunjungan perbaikan di rumah saya?",
}
OFF_ES = {
"off-001": "¿Cuánto cuesta el plan Starlink Business al mes?",
"off-002": "¿Hay descuento para estudiantes en el plan Residential?",
"off-003": "¿Cuánto cuesta el plan Maritime de 5 TB?",
"off-004": "¿Hay una opción Roam de 10 GB más barata, de unos $25 al mes?",
"off-005": "¿Puedo alquilar un Standard Kit por meses en lugar de comprarlo?",
"off-006": "¿Los veteranos tienen descuento en el servicio de Starlink?",
"off-007": "¿Hay un plan familiar que cubra dos casas con una sola suscripción?",
"off-008": "¿Cuánto cuesta el cable de antena de 45 m (150 ft)?",
"off-009": "¿Cuál es el precio del Ethernet Adapter para el Router Gen 2?",
"off-010": "cuánto cuesta el Mini Vehicle Mount?",
"off-011": "¿Cuánto cuesta un nodo mesh Router Gen 3 adicional por separado?",
"off-012": "¿Venden un kit de paneles solares dimensionado para tener la Mini encendida todo el día?",
"off-013": "¿Ofrecen instalación profesional y cuánto cobra el instalador?",
"off-014": "¿Puedo controlar el router de Starlink desde Apple HomeKit o Alexa?",
"off-015": "¿Cómo activo WPS en el router de Starlink para que mi impresora se conecte pulsando un botón?",
"off-016": "¿Starlink incluye una línea de teléfono fijo (VoIP) a la que pueda conectar un teléfono?",
"off-017": "¿Hay un programa de referidos? ¿Me dan un mes gratis si un amigo se suscribe?",
"off-018": "¿El plan incluye algún servicio de streaming de TV como Netflix o Disney+?",
"off-019": "¿Cómo restablezco de fábrica mi satélite Netgear Orbi?",
"off-020": "¿HughesNet o Viasat son más baratos que Starlink Residential?",
"off-021": "Mi gateway de internet 5G de T-Mobile se desconecta todo el rato. ¿Cómo lo arreglo?",
"off-022": "¿A qué altura sobre la Tierra orbitan los satélites de Starlink?",
"off-023": "¿Por qué el internet por satélite geoestacionario tiene mucha más latencia que el de órbita baja?",
"off-024": "¿Una tormenta solar geomagnética puede tumbar mi internet por satélite?",
"off-025": "¿Ya enviaron mi antena de reemplazo? Mi número de ticket es 4471-22.",
"off-026": "¿Por qué cerraron sin respuesta mi ticket de soporte del martes pasado?",
"off-027": "¿En qué posición estoy en la lista de espera de Residential para mi nueva dirección?",
"off-028": "¿Cuánto cuesta Optimus Gen 1?",
"off-029": "¿Cuánto cuesta un juego de almohadillas de repuesto para las yemas de los dedos?",
"off-030": "¿Cuál es el precio del Portable Charging Cable?",
"off-031": "¿Cuánto mide Optimus Gen 1?",
"off-032": "¿Qué voltaje tiene la batería del robot?",
"off-033": "¿Cuántos grados de libertad tiene cada mano de Optimus?",
"off-034": "¿Cuánto ruido hace Optimus al caminar, en decibelios?",
"off-035": "¿Puede Optimus regar mis plantas cada mañana?",
"off-036": "¿Optimus jugará al ajedrez con mi hijo?",
"off-037": "¿Puede Optimus hacer las camas por la mañana?",
"off-038": "¿Se vende Optimus en Australia?",
"off-039": "¿Puede Optimus unirse a mis rutinas de Alexa o Google Home?",
"off-040": "¿Puede Optimus reproducir Spotify por su altavoz?",
"off-041": "¿Puedo entregar mi viejo robot aspirador como parte de pago de un Optimus?",
"off-042": "¿Hay una suscripción mensual para las funciones en la nube de Optimus, y cuánto cuesta?",
"off-043": "¿Puedo alquilar un Optimus en lugar de comprarlo?",
"off-044": "¿Cuándo sale Optimus Gen 2 y qué novedades traerá?",
"off-045": "¿Cómo hago que mi Roomba vuelva a encontrar su Home Base después de moverla?",
"off-046": "¿Cómo actualizo el firmware de un Boston Dynamics Spot?",
"off-047": "¿Cuál es la diferencia entre un robot humanoide y un cobot industrial?",
"off-048": "¿Quién construyó el primer robot humanoide?",
"off-049": "¿Ya aprobaron mi reclamación de garantía del actuador de la rodilla izquierda?",
"off-050": "¿A qué hora viene el técnico para la reparación a domicilio?",
}
# fmt: on

ROOT = Path(__file__).resolve().parents[1]


def _read(name: str) -> dict[str, dict[str, object]]:
    lines = (ROOT / name / "queries.jsonl").read_text("utf-8").splitlines()
    return {q["id"]: q for q in (json.loads(line) for line in lines if line.strip())}


def _translated(source: dict[str, dict[str, object]], table: dict, language: str) -> list[dict[str, object]]:
    out = []
    for qid, entry in table.items():
        english = source[qid]
        record = {k: v for k, v in english.items()}
        record["id"] = f"{qid}-{language}"
        record["language"] = language
        record["english"] = english["question"]
        if isinstance(entry, str):  # an off-topic question: nothing to state
            record["question"] = entry
        else:
            question, extra = entry
            facts = [list(f) for f in english.get("facts", [])]  # type: ignore[union-attr]
            if len(extra) != len(facts):
                raise SystemExit(f"{qid}/{language}: {len(extra)} translated facts for {len(facts)}")
            record["question"] = question
            record["facts"] = [
                f + [a for a in more if a not in f] for f, more in zip(facts, extra, strict=True)
            ]
        out.append(record)
    return out


def _write(name: str, records: list[dict[str, object]]) -> None:
    folder = ROOT / name
    folder.mkdir(exist_ok=True)
    text = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)
    (folder / "queries.jsonl").write_text(text, "utf-8")
    print(f"{folder / 'queries.jsonl'}: {len(records)} questions")


def main() -> None:
    starlink, optimus, offtopic = _read("starlink"), _read("optimus"), _read("offtopic")
    _write("starlink-id", _translated(starlink, ID, "id"))
    _write("starlink-es", _translated(starlink, ES, "es"))
    _write("optimus-id", _translated(optimus, OP_ID, "id"))
    _write("optimus-es", _translated(optimus, OP_ES, "es"))
    _write("offtopic-id", _translated(offtopic, OFF_ID, "id"))
    _write("offtopic-es", _translated(offtopic, OFF_ES, "es"))


if __name__ == "__main__":
    main()
