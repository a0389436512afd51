${public}class Main {
    public static void main(String[] args) throws Exception {
${instance}${setup}        switch (new java.util.Scanner(System.in).nextInt()) {
            case ${k}: System.out.println(${value}); break;
        }
    }
}
